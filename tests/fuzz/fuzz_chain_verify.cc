// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the verified-path pin check over (chain, pins, anchors). Input: one flags byte
// (bit 0: the last certificate is a CA-mode trust anchor, not presented; bits 1-2: the pins' form,
// bits 3-4: their scope, 0 meaning SPKI SHA-256 anywhere on the path), one byte selecting which
// certificates become pins (bit k: element k), then DER certificates back to back.
// Properties: a match respects the pins' scope (leaf: element 0 only; issuer: never element 0), and
// a match above element 0 always comes with a verified path - every link from element 0 up to the
// matched certificate is re-checked here, independently, with the signature module.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pinning/cert_view.h"
#include "pinning/der.h"
#include "pinning/signature.h"
#include "pinning/verifier.h"

namespace {

using dotpin::DerBytes;

std::vector<DerBytes> split(DerBytes data) {
  std::vector<DerBytes> out;
  dotpin::der::Reader r(data);
  dotpin::der::Tlv tlv;
  while (out.size() < dotpin::kMaxChainLength + 1 && r.next(tlv)) out.push_back(tlv.whole);
  return out;
}

dotpin::Pin pin_of(DerBytes cert, DerBytes spki, dotpin::PinForm form, dotpin::PinScope scope) {
  dotpin::Pin p;
  p.form = form;
  p.scope = scope;
  switch (form) {
    case dotpin::PinForm::kSpkiSha256: p.digest = dotpin::spki_sha256(spki); break;
    case dotpin::PinForm::kCertSha256: p.digest = dotpin::spki_sha256(cert); break;
    case dotpin::PinForm::kSpkiSha512: p.digest512 = dotpin::sha512_of(spki); break;
    case dotpin::PinForm::kCertSha512: p.digest512 = dotpin::sha512_of(cert); break;
  }
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool ca_mode = data[0] & 1;
  const auto form = static_cast<dotpin::PinForm>((data[0] >> 1) & 3);
  const auto scope = static_cast<dotpin::PinScope>(((data[0] >> 3) & 3) % 3);
  const std::uint8_t pin_mask = data[1];
  std::vector<DerBytes> certs = split(DerBytes(data + 2, size - 2));
  std::vector<dotpin::CertView> anchors;
  if (ca_mode && certs.size() > 1) {
    if (auto a = dotpin::view_certificate(certs.back())) anchors.push_back(*a);
    certs.pop_back();
  }
  std::vector<dotpin::Pin> pins;
  for (std::size_t k = 0; k < certs.size() && k < 8; ++k) {
    if (!(pin_mask & (1u << k))) continue;
    if (const auto spki = dotpin::find_spki(certs[k])) pins.push_back(pin_of(certs[k], *spki, form, scope));
  }
  if (!anchors.empty() && (pin_mask & 0x80)) pins.push_back(pin_of(anchors[0].der, anchors[0].spki, form, scope));
  const dotpin::PinVerdict v = dotpin::verify_chain(certs, pins, dotpin::UnixTime{std::chrono::seconds{1800000000}}, anchors);
  if (!v.matched()) return 0;
  const int top = v.matched_position();
  if (scope == dotpin::PinScope::kLeaf && top != 0) __builtin_trap();
  if (scope == dotpin::PinScope::kIssuer && top < 1) __builtin_trap();
  if (top <= 0) return 0;
  // Rebuild the path from the observed positions and check every link up to the match.
  std::vector<const dotpin::CertView*> path(static_cast<std::size_t>(top) + 1, nullptr);
  std::vector<std::optional<dotpin::CertView>> views(certs.size());
  for (std::size_t e = 0; e < v.observed_count; ++e) {
    const dotpin::ObservedPin& o = v.observed[e];
    if (!o.on_path || o.position > top) continue;
    if (e < v.presented) {
      views[e] = dotpin::view_certificate(certs[e]);
      if (!views[e]) __builtin_trap();  // on the path but not a certificate
      path[o.position] = &*views[e];
    } else {
      if (anchors.empty()) __builtin_trap();  // an anchor slot without anchors
      path[o.position] = &anchors[0];
    }
  }
  if (!v.observed[0].on_path || v.observed[0].position != 0) __builtin_trap();
  for (int pos = 1; pos <= top; ++pos) {
    const dotpin::CertView* child = path[static_cast<std::size_t>(pos) - 1];
    const dotpin::CertView* parent = path[static_cast<std::size_t>(pos)];
    if (!child || !parent) __builtin_trap();  // a hole in the path
    if (!std::ranges::equal(child->issuer, parent->subject)) __builtin_trap();
    if (!parent->may_sign_certificates() || parent->unknown_critical) __builtin_trap();
    if (dotpin::verify_signature(child->tbs, child->sig_alg, child->signature, parent->spki) !=
        dotpin::SignatureCheck::kValid)
      __builtin_trap();
  }
  return 0;
}
