// SPDX-License-Identifier: Apache-2.0
#include "control/dane_lookup.h"

#include <poll.h>
#include <unbound.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/rrsig_scan.h"

namespace dotpin::dane {

// Where libunbound's callback leaves a result. A query is identified by a serial: a result that
// arrives for an older query (one whose cancel came too late) is freed and ignored.
struct DaneLookup::Inbox {
  struct Delivery {
    Inbox* inbox;
    std::uint64_t serial;
  };
  std::uint64_t serial = 0;  // the query being waited for
  bool done = false;
  int err = 0;
  ub_result* result = nullptr;
  std::vector<Delivery*> orphans;  // cancelled too late: their callback may still come

  static void on_result(void* arg, int err, ub_result* result) {
    auto* d = static_cast<Delivery*>(arg);
    Inbox& in = *d->inbox;
    if (d->serial == in.serial && !in.done) {
      in.done = true;
      in.err = err;
      in.result = result;
    } else if (result) {
      ub_resolve_free(result);
    }
    std::erase(in.orphans, d);
    delete d;
  }

  ~Inbox() {
    if (result) ub_resolve_free(result);
    for (Delivery* d : orphans) delete d;
  }
};

std::string_view to_string(DaneAnswer::Status s) {
  switch (s) {
    case DaneAnswer::Status::kSecure: return "secure";
    case DaneAnswer::Status::kBogus: return "bogus";
    case DaneAnswer::Status::kInsecure: return "insecure";
    case DaneAnswer::Status::kMissing: return "missing";
  }
  return "?";
}

namespace {

// True if some line of @p path holds a DS or DNSKEY record (a field spelt so, case-insensitively,
// outside a ';' comment). Not a parser: libunbound parses the file; this only refuses a file that
// would leave the context without any anchor.
Result<bool> has_anchor_record(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail("trust anchor file ", path, ": ", std::strerror(errno));
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find(';'));
    std::istringstream fields(line);
    std::string f;
    while (fields >> f) {
      std::ranges::transform(f, f.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (f == "DS" || f == "DNSKEY") return true;
    }
  }
  return false;
}

std::string with_trailing_dot(std::string name) {
  if (name.empty() || name.back() != '.') name += '.';
  return name;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

Result<std::monostate> check(int err, std::string_view what) {
  if (err == 0) return std::monostate{};
  return fail("libunbound: ", std::string(what), ": ", ub_strerror(err));
}

}  // namespace

// What a finished libunbound query means for the pins (dane_lookup.h).
namespace {

Result<DaneAnswer> classify(const std::string& qname, int err, const ub_result* r) {
  if (err != 0 || !r) return fail(qname, " TLSA: libunbound: ", ub_strerror(err != 0 ? err : UB_NOMEM));
  DaneAnswer a;
  a.ttl = r->ttl > 0 ? static_cast<std::uint32_t>(r->ttl) : 0;
  a.owner = lower(with_trailing_dot(r->canonname ? r->canonname : qname));
  // Bogus first: libunbound reports a bogus answer as SERVFAIL too, with the reason.
  if (r->bogus) {
    a.status = DaneAnswer::Status::kBogus;
    a.why_bogus = r->why_bogus ? r->why_bogus : "validation failed (libunbound gave no reason)";
    return a;
  }
  if (r->rcode != 0 && r->rcode != 3)  // anything but NOERROR and NXDOMAIN is no answer
    return fail(qname, " TLSA: no answer (rcode ", std::to_string(r->rcode), ")");
  if (!r->havedata) {
    // NXDOMAIN or NODATA: an absence only counts when it is proven (see the header).
    a.status = r->secure ? DaneAnswer::Status::kMissing : DaneAnswer::Status::kInsecure;
    return a;
  }
  if (!r->secure) {
    a.status = DaneAnswer::Status::kInsecure;
    return a;
  }
  a.status = DaneAnswer::Status::kSecure;
  for (int i = 0; r->data && r->data[i]; ++i) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(r->data[i]);
    a.rdata.emplace_back(p, p + r->len[i]);
  }
  // The owner and the signature window come from the answer packet, which libunbound encodes with
  // the DNSSEC records of the answer (it asks with DO set).
  const auto* pkt = static_cast<const std::uint8_t*>(r->answer_packet);
  auto scan = scan_answer_rrset({pkt, pkt ? static_cast<std::size_t>(r->answer_len) : 0}, kTypeTlsa);
  if (!scan) return fail(qname, " TLSA: ", scan.error());
  if (scan->records != a.rdata.size())
    return fail(qname, " TLSA: the answer packet has ", std::to_string(scan->records), " TLSA records, libunbound ",
                std::to_string(a.rdata.size()));
  a.owner = scan->owner;
  if (scan->signatures > 0) {
    a.rrsig_expiration = UnixTime(std::chrono::seconds(scan->earliest_expiration));
    a.rrsig_inception = UnixTime(std::chrono::seconds(scan->latest_inception));
  }
  return a;
}

}  // namespace

Result<DaneLookup> DaneLookup::create(const DaneLookupOptions& o) {
  if (o.timeout.count() <= 0) return fail("DANE lookup timeout must be positive");
  std::string anchor = o.trust_anchor_file.empty() ? std::string(kDefaultRootAnchor) : o.trust_anchor_file;
  std::error_code ec;
  if (auto abs = std::filesystem::absolute(anchor, ec); !ec) anchor = abs.string();
  auto has = has_anchor_record(anchor);
  if (!has) {
    if (o.trust_anchor_file.empty())
      return fail(has.error(), " (the default root anchor comes with Debian's dns-root-data package)");
    return Error{has.error()};
  }
  if (!*has) return fail("trust anchor file ", anchor, ": no DS or DNSKEY record");

  ub_ctx* ctx = ub_ctx_create();
  if (!ctx) return fail("libunbound: cannot create a context");
  auto give_up = [ctx](const Result<std::monostate>& r) {
    ub_ctx_delete(ctx);
    return Error{r.error()};
  };
  // Threads, not libunbound's default fork(): a forked copy of dotpind would hold its hugepages
  // and DPDK state.
  if (auto r = check(ub_ctx_async(ctx, 1), "async mode"); !r) return give_up(r);
  // ub_ctx_add_ta_file only records the name: the file is read at the first lookup (a parse error
  // shows up there as an initialisation failure).
  if (auto r = check(ub_ctx_add_ta_file(ctx, anchor.c_str()), "trust anchor " + anchor); !r) return give_up(r);
  for (const std::string& fwd : o.resolvers)
    if (auto r = check(ub_ctx_set_fwd(ctx, fwd.c_str()), "resolver '" + fwd + "'"); !r) return give_up(r);
  // With resolvers, names under the private-use special names (test., RFC 6761; home.arpa., RFC
  // 8375) go to them like every other name: libunbound's built-in local zones for them would
  // otherwise answer an unsigned NXDOMAIN itself ("insecure") without asking anyone. A local zone
  // of the same name replaces the built-in one ("nodefault" through ub_ctx_set_option did not);
  // transparent, it answers nothing itself. The other built-in zones (localhost, invalid., onion.,
  // the reverse zones) stay.
  if (!o.resolvers.empty())
    for (const char* lz : {"test. transparent", "home.arpa. transparent"})
      if (auto r = check(ub_ctx_set_option(ctx, "local-zone:", lz), std::string("local-zone ") + lz); !r)
        return give_up(r);
  for (const auto& [zone, addr] : o.stubs) {
    const std::string z = with_trailing_dot(zone);
    if (auto r = check(ub_ctx_set_stub(ctx, z.c_str(), addr.c_str(), 0), "stub " + z + " at '" + addr + "'"); !r)
      return give_up(r);
    // A stub zone is asked even under a special-use name whose built-in local zone would answer
    // for it (test., home.arpa., RFC 6761): a transparent local zone of its own, more specific,
    // lets its queries through to the resolver.
    const std::string lz = z + " transparent";
    if (auto r = check(ub_ctx_set_option(ctx, "local-zone:", lz.c_str()), "local-zone " + lz); !r) return give_up(r);
  }
  // Addresses the operator configured are asked even on loopback (unbound refuses 127.0.0.0/8 and
  // ::1 by default, as a referral there is usually a mistake).
  if (!o.resolvers.empty() || !o.stubs.empty())
    if (auto r = check(ub_ctx_set_option(ctx, "do-not-query-localhost:", "no"), "do-not-query-localhost"); !r)
      return give_up(r);
  return DaneLookup(ctx, std::make_unique<Inbox>(), std::move(anchor), o.timeout);
}

DaneLookup::DaneLookup(ub_ctx* ctx, std::unique_ptr<Inbox> inbox, std::string anchor,
                       std::chrono::milliseconds timeout)
    : ctx_(ctx), inbox_(std::move(inbox)), anchor_(std::move(anchor)), timeout_(timeout) {}

DaneLookup::DaneLookup(DaneLookup&& o) noexcept
    : ctx_(std::exchange(o.ctx_, nullptr)), inbox_(std::move(o.inbox_)), anchor_(std::move(o.anchor_)),
      timeout_(o.timeout_) {}

DaneLookup& DaneLookup::operator=(DaneLookup&& o) noexcept {
  if (this != &o) {
    if (ctx_) ub_ctx_delete(ctx_);
    ctx_ = std::exchange(o.ctx_, nullptr);
    inbox_ = std::move(o.inbox_);
    anchor_ = std::move(o.anchor_);
    timeout_ = o.timeout_;
  }
  return *this;
}

DaneLookup::~DaneLookup() {
  // Stops libunbound's thread first: no callback can run once the inbox goes.
  if (ctx_) ub_ctx_delete(ctx_);
}

Result<DaneAnswer> DaneLookup::lookup(std::string_view auth_name, std::uint16_t port) {
  if (!ctx_) return fail("DANE lookup: no context (moved from)");
  std::string name(auth_name);
  while (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty() || name.front() == '.') return fail("DANE lookup: bad name '", std::string(auth_name), "'");
  const std::string qname = "_" + std::to_string(port) + "._tcp." + name + ".";

  Inbox& in = *inbox_;
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout_;
  in.done = false;
  in.err = 0;
  in.result = nullptr;
  auto* delivery = new Inbox::Delivery{&in, ++in.serial};
  int id = 0;
  if (int err = ub_resolve_async(ctx_, qname.c_str(), kTypeTlsa, 1, delivery, &Inbox::on_result, &id); err != 0) {
    delete delivery;
    if (err == UB_INITFAIL)
      return fail("libunbound: ", ub_strerror(err), " (is ", anchor_,
                  " a readable file of DS or DNSKEY records in zone-file format?)");
    return fail("libunbound: ", qname, ": ", ub_strerror(err));
  }
  auto abandon = [&](const std::string& why) -> Result<DaneAnswer> {
    // After a successful cancel the callback never runs; otherwise it may still come (and is
    // ignored: its serial is no longer awaited).
    if (ub_cancel(ctx_, id) == 0) delete delivery;
    else in.orphans.push_back(delivery);
    ++in.serial;
    return fail(qname, " TLSA: ", why);
  };
  const int fd = ub_fd(ctx_);
  if (fd < 0) return abandon("libunbound has no file descriptor");
  while (!in.done) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return abandon("no answer within " + std::to_string(timeout_.count()) + " ms");
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
    if (n < 0 && errno != EINTR) return abandon(std::string("poll: ") + std::strerror(errno));
    if (n > 0 || ub_poll(ctx_)) {
      if (int err = ub_process(ctx_); err != 0) return abandon(std::string("libunbound: ") + ub_strerror(err));
    }
  }
  ub_result* r = std::exchange(in.result, nullptr);
  Result<DaneAnswer> answer = classify(qname, in.err, r);
  if (r) ub_resolve_free(r);
  return answer;
}


}  // namespace dotpin::dane
