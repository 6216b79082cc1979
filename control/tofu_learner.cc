// SPDX-License-Identifier: Apache-2.0
#include "control/tofu_learner.h"

#include "pinning/authenticate.h"
#include "pinning/verifier.h"

namespace dotpin::ctl {

std::string_view to_string(LearnRefusal r) {
  switch (r) {
    case LearnRefusal::kNone: return "none";
    case LearnRefusal::kUnreachable: return "unreachable";
    case LearnRefusal::kRefused: return "refused";
    case LearnRefusal::kDisagree: return "disagree";
    case LearnRefusal::kNotOnPath: return "not_on_path";
  }
  return "?";
}

Result<std::unique_ptr<TofuLearner>> TofuLearner::create(Options options, FetchFn fetch) {
  std::unique_ptr<TofuLearner> l(new TofuLearner(std::move(options), std::move(fetch)));
  if (!l->options_.ca_file.empty()) {
    auto ctx = tls::make_client_ctx(l->options_.ca_file);
    if (!ctx) return fail("TOFU: CA file not loaded: ", ctx.error());
    l->trust_ = std::make_shared<tls::ClientContext>(std::move(*ctx));
  }
  return l;
}

LearnOutcome TofuLearner::learn(const UpstreamPins& up, UnixTime now) const {
  LearnOutcome out;
  auto refuse = [&out](LearnRefusal r, std::string why) {
    out.refusal = r;
    out.why = std::move(why);
    out.learned.reset();
    return out;
  };
  const std::span<const CertView> anchors = trust_ ? trust_->anchors() : std::span<const CertView>{};
  const std::vector<Endpoint> addresses = up.learn_from.empty() ? std::vector<Endpoint>{up.address} : up.learn_from;
  std::vector<Pin> agreed;
  std::string from;
  for (const Endpoint& address : addresses) {
    const std::string where = address.to_string();
    tls::FetchOptions f;
    f.server = address;
    f.sni = up.auth_name;
    f.ca_file = options_.ca_file;
    f.timeout = options_.timeout;
    f.min_version = options_.min_version;
    auto fetched = fetch_(f);
    if (!fetched) return refuse(LearnRefusal::kUnreachable, where + ": " + fetched.error());
    if (!fetched->parameters_problem.empty())
      return refuse(LearnRefusal::kRefused, where + ": " + fetched->parameters_problem);
    if (fetched->pkix_checked && !fetched->pkix_ok)
      return refuse(LearnRefusal::kRefused, where + ": PKIX: " + fetched->pkix_error);
    std::vector<DerBytes> ders;
    for (const auto& d : fetched->chain) ders.emplace_back(d);
    // The whole verified path first (no pins: the verifier builds it all), then the candidates.
    const PinVerdict path = verify_chain(ders, std::span<const Pin>{}, now, anchors);
    if (path.code == PinVerdictCode::kEmptyChain || path.code == PinVerdictCode::kChainTooLong ||
        path.code == PinVerdictCode::kUnparsableChain || path.observed_count == 0 || !path.observed[0].parsed)
      return refuse(LearnRefusal::kRefused, where + ": chain not usable (" + std::string(to_string(path.code)) + ")");
    if (!anchors.empty() && !path.anchored)
      return refuse(LearnRefusal::kRefused, where + ": no verified path to a CA of the CA file");
    std::vector<Pin> candidates;
    Pin leaf;
    leaf.digest = path.observed[0].digest;
    leaf.scope = PinScope::kLeaf;
    leaf.origin = PinOrigin::kTofu;
    candidates.push_back(leaf);
    if (up.learn == TofuLearn::kLeafAndIssuer) {
      const ObservedPin* issuer = nullptr;
      for (const ObservedPin& o : path.observed_pins())
        if (o.on_path && o.position == 1) issuer = &o;
      if (!issuer)
        return refuse(LearnRefusal::kNotOnPath, where + ": learn = leaf+issuer, but no issuer of the leaf is on the verified path");
      Pin is;
      is.digest = issuer->digest;
      is.scope = PinScope::kIssuer;
      is.origin = PinOrigin::kTofu;
      candidates.push_back(is);
    }
    // The candidates as pins, through the resolver's own decision: name, validity, PKIX, path.
    UpstreamPins judged = up;
    judged.pins = candidates;
    const PinVerdict v = authenticate_chain(ders, judged, now, anchors);
    if (!v.matched()) return refuse(LearnRefusal::kRefused, where + ": " + std::string(to_string(v.code)));
    if (agreed.empty()) {
      agreed = candidates;
    } else {
      bool same = agreed.size() == candidates.size();
      for (std::size_t i = 0; same && i < agreed.size(); ++i) same = pins_equal(agreed[i].digest, candidates[i].digest);
      if (!same)
        return refuse(LearnRefusal::kDisagree, where + " presents pin-sha256=\"" + pin_base64(candidates[0].digest) +
                                                   "\", " + from + " presented pin-sha256=\"" + pin_base64(agreed[0].digest) + "\"");
    }
    from += (from.empty() ? "" : ", ") + where;
  }
  LearnedUpstream learned;
  learned.address = up.address.to_string();
  learned.auth_name = up.auth_name;
  for (const Pin& p : agreed) learned.pins.push_back(LearnedPin{p.digest, p.scope, now, from});
  out.learned = std::move(learned);
  return out;
}

}  // namespace dotpin::ctl
