// SPDX-License-Identifier: Apache-2.0
// DotShard over real loopback sockets and io_uring against in-process wolfSSL responders, and over
// scripted links (tests/tls/scripted_link.h) where what is tested is the shard's own timing and
// choices. Time is the tests' own: the shard sees now(), which a test moves on with advance();
// real time only bounds the loops that wait for real I/O.
#include "tls/shard.h"

#include <gtest/gtest.h>

#include <map>
#include <type_traits>

#include "common/dns_wire.h"
#include "tests/test_pki.h"
#include "tests/tls/scripted_link.h"
#include "tests/tls/socket_dot_responder.h"

namespace dotpin::tls {
namespace {

using namespace std::chrono_literals;
using test::pki_dir;
using test::SocketDotResponder;
using Clock = DotShard::Clock;

std::string pki(const std::string& f) { return pki_dir() + "/" + f; }

UpstreamPins upstream_at(const std::string& name, const std::string& address) {
  UpstreamPins u;
  u.name = name;
  u.address = *parse_endpoint(address, 853, false);
  u.auth_name = "dns.dotpin.test";
  for (const char* stem : {"leaf-p256", "spare"}) {
    Pin p;
    p.digest = *parse_pin_base64(test::reference_pin(stem));
    u.pins.push_back(p);
  }
  return u;
}

std::vector<std::uint8_t> query(std::uint16_t id, const std::string& name = "www.dotpin.test") {
  dns::QueryOptions o;
  o.id = id;
  return *dns::build_query(name, dns::kTypeA, o);
}

struct Result {
  std::vector<std::uint8_t> bytes;  ///< an answer
  DotShard::Outcome outcome;
  dns::EdeCode ede = dns::EdeCode::kOther;  ///< a failure's reason
  std::string text;
};

// The hot path's contract, checked by the compiler.
static_assert(noexcept(std::declval<DotShard&>().submit(std::declval<std::uint64_t>(),
                                                        std::declval<std::span<const std::uint8_t>>(),
                                                        std::declval<Clock::time_point>())));
static_assert(noexcept(std::declval<DotShard&>().poll(std::declval<Clock::time_point>(),
                                                      std::declval<std::chrono::microseconds>())));

class ShardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DOTPIN_REQUIRE_PKI();
    ctx_ = std::move(*make_client_ctx(""));
  }

  std::unique_ptr<DotShard> make_shard(std::vector<const UpstreamPins*> ups, ShardOptions o = {},
                                       const ClientContext* ctx = nullptr) {
    std::vector<ShardUpstream> cfg;
    for (const auto* u : ups) cfg.push_back({u, ctx ? ctx : &ctx_});
    return std::make_unique<DotShard>(reactor_, cfg, 1, o,
                                      [this](std::uint64_t cookie, DotShard::Outcome out, std::span<const std::uint8_t> r,
                                             const dns::Ede& ede) {
                                        EXPECT_FALSE(results_.contains(cookie)) << "completed twice: " << cookie;
                                        // A failure carries no bytes: the caller writes the SERVFAIL.
                                        EXPECT_EQ(out == DotShard::Outcome::kAnswer, !r.empty()) << cookie;
                                        results_[cookie] = {{r.begin(), r.end()}, out, ede.code, std::string(ede.text)};
                                      });
  }

  /// The shard's time: the real clock moved on by advance().
  [[nodiscard]] Clock::time_point now() const { return Clock::now() + skew_; }
  void advance(Clock::duration d) { skew_ += d; }

  /// Polls until @p n results are in (real time bounds the wait for real I/O; it is no assertion).
  void run_until(DotShard& shard, std::size_t n, std::chrono::milliseconds limit = 10s) {
    const auto end = Clock::now() + limit;
    while (results_.size() < n && Clock::now() < end) shard.poll(now(), 2ms);
  }
  /// Polls until @p done() holds, bounded like run_until.
  template <class Pred>
  void poll_until(DotShard& shard, Pred done, std::chrono::milliseconds limit = 10s) {
    const auto end = Clock::now() + limit;
    while (!done() && Clock::now() < end) shard.poll(now(), 2ms);
  }

  // Two queries through a shard to @p responder: cookie 1 from a client without EDNS, cookie 2 from
  // one with EDNS but no padding of its own. Returns the plain query's length.
  std::size_t forward_plain_and_edns(SocketDotResponder& responder) {
    const auto up = upstream_at("a", responder.address());
    auto shard = make_shard({&up});
    dns::QueryOptions o;
    o.id = 5;
    o.edns = false;
    const auto plain = *dns::build_query("www.dotpin.test", dns::kTypeA, o);
    EXPECT_TRUE(shard->submit(1, plain, now()));
    o.edns = true;
    o.pad_block = 0;
    EXPECT_TRUE(shard->submit(2, *dns::build_query("www.dotpin.test", dns::kTypeA, o), now()));
    run_until(*shard, 2);
    return plain.size();
  }

  ClientContext ctx_;
  UringReactor reactor_{256};
  std::map<std::uint64_t, Result> results_;
  Clock::duration skew_{0};
};

TEST_F(ShardTest, AnswersWithTheClientsOwnIdsEvenWhenTheyCollide) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto up = upstream_at("a", genuine.address());
  auto shard = make_shard({&up});
  // 200 queries, all with client ID 7, plus some others: the wire IDs must differ.
  for (std::uint64_t i = 0; i < 200; ++i) ASSERT_TRUE(shard->submit(i, query(i < 150 ? 7 : static_cast<std::uint16_t>(i)), now()));
  run_until(*shard, 200);
  ASSERT_EQ(results_.size(), 200u);
  for (auto& [cookie, r] : results_) {
    ASSERT_EQ(r.outcome, DotShard::Outcome::kAnswer);
    const auto h = dns::read_header(r.bytes);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->id, cookie < 150 ? 7 : cookie);
    EXPECT_TRUE(h->qr);
  }
  EXPECT_EQ(shard->stats(0).answers, 200u);
  EXPECT_EQ(shard->stats(0).connections, 1u);
  EXPECT_EQ(shard->stats(0).full_handshakes, 1u);
  EXPECT_EQ(shard->pending(), 0u);
}

TEST_F(ShardTest, AThousandInFlightOnOneConnection) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto up = upstream_at("a", genuine.address());
  ShardOptions o;
  o.max_inflight_per_connection = 1024;
  auto shard = make_shard({&up}, o);
  for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(shard->submit(i, query(static_cast<std::uint16_t>(i)), now()));
  run_until(*shard, 1000);
  EXPECT_EQ(results_.size(), 1000u);
  EXPECT_EQ(shard->stats(0).answers, 1000u);
  EXPECT_EQ(shard->stats(0).connections, 1u);
  EXPECT_EQ(genuine.queries.load(), 1000);
}

TEST_F(ShardTest, ImpostorInThePoolIsRefusedAndItsQueriesFailOver) {
  SocketDotResponder impostor(pki("impostor.key"), pki("impostor.chain.pem"));
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto bad = upstream_at("impostor", impostor.address());
  const auto good = upstream_at("genuine", genuine.address());
  auto shard = make_shard({&bad, &good});
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(shard->submit(i, query(1), now()));
  run_until(*shard, 100);
  ASSERT_EQ(results_.size(), 100u);
  for (auto& [cookie, r] : results_) EXPECT_EQ(r.outcome, DotShard::Outcome::kAnswer) << cookie;
  const auto& s = shard->stats(0);
  EXPECT_GE(s.failures[static_cast<std::size_t>(FailureReason::kPinMismatch)], 1u);
  EXPECT_EQ(s.health, UpstreamHealth::kPinFailed);
  EXPECT_EQ(pin_base64(s.last_refusal.observed[0].digest), test::reference_pin("impostor"));
  EXPECT_GE(s.retries, 1u);
  EXPECT_EQ(impostor.queries.load(), 0);  // refused before any query was written
  EXPECT_EQ(shard->stats(1).answers, 100u);
}

TEST_F(ShardTest, OnlyAnImpostorMeansServfailWithExtendedError) {
  SocketDotResponder impostor(pki("impostor.key"), pki("impostor.chain.pem"));
  const auto bad = upstream_at("impostor", impostor.address());
  std::vector<std::string> log;
  ShardOptions o;
  o.log = [&](std::string_view line) { log.emplace_back(line); };
  auto shard = make_shard({&bad}, o);
  ASSERT_TRUE(shard->submit(1, query(0x4242), now()));
  run_until(*shard, 1);
  ASSERT_EQ(results_.size(), 1u);
  const Result& r = results_[1];
  EXPECT_EQ(r.outcome, DotShard::Outcome::kServfail);
  EXPECT_EQ(r.ede, dns::EdeCode::kNoReachableAuthority);  // 22: a refused pin
  EXPECT_EQ(r.text, "dotpin: upstream impostor pin_mismatch");
  EXPECT_EQ(impostor.queries.load(), 0);
  // Backing off now: the next query is answered at once, without a new connection attempt.
  const auto conns = shard->stats(0).connections;
  ASSERT_TRUE(shard->submit(2, query(1), now()));
  run_until(*shard, 2, 1s);
  EXPECT_EQ(results_[2].outcome, DotShard::Outcome::kServfail);
  EXPECT_EQ(results_[2].ede, dns::EdeCode::kNoReachableAuthority);
  EXPECT_EQ(results_[2].text, "dotpin: no pinned upstream available");
  EXPECT_EQ(shard->stats(0).connections, conns);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("upstream impostor (127.0.0.1:"), std::string::npos) << log[0];
  EXPECT_NE(log[0].find("pin_mismatch; observed pins: [0] pin-sha256=\"" + test::reference_pin("impostor") +
                        "\" (on the path)"),
            std::string::npos)
      << log[0];
}

TEST_F(ShardTest, ClientsWithoutEdnsGetNoOptButTheWireIsPadded) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const std::size_t plain_size = forward_plain_and_edns(genuine);
  ASSERT_EQ(results_.size(), 2u);
  // The responder echoes what it got: the padded query. The client without EDNS gets it back
  // without the OPT record the shard added; the EDNS client keeps its OPT (now padded).
  EXPECT_EQ(dns::read_header(results_[1].bytes)->arcount, 0);
  EXPECT_EQ(results_[1].bytes.size(), plain_size);
  EXPECT_EQ(dns::read_header(results_[2].bytes)->arcount, 1);
  EXPECT_EQ(results_[2].bytes.size() % 128, 0u);
}

// The benchmarks' responder pads like unbound (468-byte blocks): the padding must be a real
// Padding option the shard copes with, and a client without EDNS still gets no OPT back.
TEST_F(ShardTest, AnswersPaddedLikeUnboundsReachTheClientWithoutTheShardsOpt) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  genuine.pad_block = 468;
  genuine.answer_ttl = 300;
  const std::size_t plain_size = forward_plain_and_edns(genuine);
  ASSERT_EQ(results_.size(), 2u);
  ASSERT_EQ(results_[1].outcome, DotShard::Outcome::kAnswer) << results_[1].text;
  EXPECT_EQ(dns::read_header(results_[1].bytes)->arcount, 0);
  EXPECT_EQ(dns::read_header(results_[1].bytes)->ancount, 1);
  EXPECT_EQ(results_[1].bytes.size(), plain_size + 16);  // + the A record, no OPT
  EXPECT_EQ(results_[2].bytes.size() % 468, 0u);            // the EDNS client sees the padding
  EXPECT_EQ(dns::read_header(results_[2].bytes)->arcount, 1);
}

TEST(SocketDotResponderPadding, PadsToTheBlockOrLeavesAMessageWithoutOpt) {
  dns::QueryOptions o;
  o.id = 1;
  auto padded = *dns::build_query("www.dotpin.test", dns::kTypeA, o);  // OPT with 128-byte padding
  ASSERT_TRUE(SocketDotResponder::pad_answer(padded, 468));
  EXPECT_EQ(padded.size(), 468u);
  ASSERT_TRUE(SocketDotResponder::pad_answer(padded, 468));  // re-padding replaces, not adds
  EXPECT_EQ(padded.size(), 468u);
  o.edns = false;
  auto plain = *dns::build_query("www.dotpin.test", dns::kTypeA, o);
  const auto before = plain;
  EXPECT_FALSE(SocketDotResponder::pad_answer(plain, 468));
  EXPECT_EQ(plain, before);
}

TEST_F(ShardTest, RealUpstreamKilledWithQueriesInFlightLosesNothing) {
  SocketDotResponder a(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  SocketDotResponder b(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  a.hold = true;  // A reads its queries and answers none: they are in flight when it dies
  const auto ua = upstream_at("a", a.address());
  const auto ub = upstream_at("b", b.address());
  auto shard = make_shard({&ua, &ub});
  for (std::uint64_t i = 0; i < 40; ++i) ASSERT_TRUE(shard->submit(i, query(3), now()));  // 20 each
  poll_until(*shard, [&] { return a.queries.load() == 20 && results_.size() == 20; });
  ASSERT_EQ(a.queries.load(), 20);
  ASSERT_EQ(results_.size(), 20u);  // B's
  a.kill();
  run_until(*shard, 40);
  ASSERT_EQ(results_.size(), 40u);  // every query completed exactly once: none lost, none hung
  for (const auto& [cookie, r] : results_) EXPECT_EQ(r.outcome, DotShard::Outcome::kAnswer) << cookie;
  EXPECT_EQ(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kReset)], 1u);
  EXPECT_EQ(shard->stats(0).retries, 20u);
  EXPECT_EQ(shard->stats(1).answers, 40u);
  EXPECT_EQ(shard->pending(), 0u);
}

TEST_F(ShardTest, AConnectionAdmittedByAPinWhoseWindowClosesIsDrained) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  auto up = upstream_at("a", genuine.address());
  UnixTime wall = now_utc();
  up.pins[0].not_after = wall + 1h;  // leaf-p256's pin: the only one this chain matches
  ShardOptions o;
  o.wall_clock = [&wall] { return wall; };
  o.pin_recheck_interval = 0ms;  // every poll: the test drives time itself
  auto shard = make_shard({&up}, o);
  ASSERT_TRUE(shard->submit(1, query(1), now()));
  run_until(*shard, 1);
  ASSERT_EQ(results_[1].outcome, DotShard::Outcome::kAnswer);
  EXPECT_EQ(shard->stats(0).drained_connections, 0u);
  shard->poll(now());
  EXPECT_EQ(shard->stats(0).drained_connections, 0u);  // still in window: kept
  wall += 2h;                                         // the window closes while the connection is up
  shard->poll(now());
  EXPECT_EQ(shard->stats(0).drained_connections, 1u);
  // The next query needs a new connection, whose full handshake finds no pin valid now.
  ASSERT_TRUE(shard->submit(2, query(2), now()));
  run_until(*shard, 2);
  EXPECT_EQ(results_[2].outcome, DotShard::Outcome::kServfail);
  EXPECT_GE(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kNoPinInWindow)], 1u);
  EXPECT_EQ(shard->stats(0).resumptions, 0u);  // the ticket of the drained connection was not used
}

TEST_F(ShardTest, IdleConnectionsCloseAndTheNextOneResumes) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto up = upstream_at("a", genuine.address());
  ShardOptions o;
  o.idle_timeout = 200ms;
  auto shard = make_shard({&up}, o);
  ASSERT_TRUE(shard->submit(1, query(1), now()));
  run_until(*shard, 1);
  // Nothing in flight: one idle timeout later the connection closes.
  shard->poll(now());
  EXPECT_EQ(shard->stats(0).idle_closes, 0u);
  advance(o.idle_timeout);
  shard->poll(now());
  EXPECT_EQ(shard->stats(0).idle_closes, 1u);
  ASSERT_TRUE(shard->submit(2, query(2), now()));
  run_until(*shard, 2);
  EXPECT_EQ(results_[2].outcome, DotShard::Outcome::kAnswer);
  const auto& st = shard->stats(0);
  EXPECT_EQ(st.connections, 2u);
  EXPECT_EQ(st.full_handshakes, 1u);
  EXPECT_EQ(st.resumptions_offered, 1u);
  EXPECT_EQ(st.resumptions, 1u);  // the pinned ticket from the first connection was used
  EXPECT_EQ(genuine.connections.load(), 2);
}

TEST_F(ShardTest, SilentUpstreamTimesOutToServfail) {
  SocketDotResponder silent(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  silent.silent = true;
  const auto up = upstream_at("s", silent.address());
  ShardOptions o;
  o.query_timeout = 300ms;
  auto shard = make_shard({&up}, o);
  for (std::uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(shard->submit(i, query(9), now()));
  poll_until(*shard, [&] { return silent.queries.load() == 5; });
  ASSERT_EQ(silent.queries.load(), 5);  // all written, none answered
  EXPECT_TRUE(results_.empty());
  advance(o.query_timeout);
  shard->poll(now());
  ASSERT_EQ(results_.size(), 5u);
  for (auto& [cookie, r] : results_) {
    EXPECT_EQ(r.outcome, DotShard::Outcome::kServfail);
    EXPECT_EQ(r.ede, dns::EdeCode::kNetworkError);  // 23
    EXPECT_EQ(r.text, "dotpin: upstream timed out");
  }
  EXPECT_EQ(shard->stats(0).timeouts, 5u);
  EXPECT_EQ(shard->pending(), 0u);
  EXPECT_EQ(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kUnresponsive)], 0u);
  // Nothing arrives for another query timeout: the connection is closed as unresponsive and the
  // upstream backs off, instead of keeping the reserved IDs of abandoned queries forever.
  advance(o.query_timeout);
  shard->poll(now());
  EXPECT_EQ(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kUnresponsive)], 1u);
  EXPECT_EQ(shard->stats(0).health, UpstreamHealth::kBackingOff);
}

TEST_F(ShardTest, RefusesBeyondItsBoundAndUnreadableQueries) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto up = upstream_at("a", genuine.address());
  ShardOptions o;
  o.max_pending = 10;
  auto shard = make_shard({&up}, o);
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(shard->submit(i, query(1), now()));
  EXPECT_FALSE(shard->submit(10, query(1), now()));
  const std::uint8_t junk[] = {1, 2, 3};
  EXPECT_FALSE(shard->submit(11, junk, now()));
  run_until(*shard, 10);
  EXPECT_EQ(results_.size(), 10u);
}

TEST_F(ShardTest, NoSessionForANewConnectionIsLocalResourcesAndServfail) {
  // A context without a WOLFSSL_CTX: wolfSSL_new fails exactly as it does without memory.
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto up = upstream_at("a", genuine.address());
  const ClientContext no_ctx;
  std::vector<std::string> log;
  ShardOptions o;
  o.log = [&](std::string_view line) { log.emplace_back(line); };
  auto shard = make_shard({&up}, o, &no_ctx);
  dns::QueryOptions q;
  q.id = 0x5151;
  ASSERT_TRUE(shard->submit(1, *dns::build_query("www.dotpin.test", dns::kTypeA, q), now()));  // no throw
  ASSERT_EQ(results_.size(), 1u);  // completed within submit
  EXPECT_EQ(results_[1].outcome, DotShard::Outcome::kServfail);
  EXPECT_TRUE(results_[1].bytes.empty());  // a failure carries its reason, the worker writes the SERVFAIL
  EXPECT_EQ(results_[1].ede, dns::EdeCode::kOther);
  EXPECT_EQ(results_[1].text, "dotpin: upstream a local_resources");
  ASSERT_TRUE(shard->submit(2, query(2), now()));
  shard->poll(now());
  EXPECT_EQ(results_[2].outcome, DotShard::Outcome::kServfail);
  const auto& st = shard->stats(0);
  EXPECT_EQ(st.failures[static_cast<std::size_t>(FailureReason::kLocalResources)], 2u);
  EXPECT_EQ(st.connections, 0u);
  EXPECT_EQ(st.servfails, 2u);
  EXPECT_EQ(st.health, UpstreamHealth::kUp);  // nothing the upstream did: no backoff
  EXPECT_EQ(shard->pending(), 0u);
  EXPECT_EQ(genuine.connections.load(), 0);
  ASSERT_EQ(log.size(), 1u);  // once per run of failures
  EXPECT_EQ(log[0], "upstream a: cannot open a connection: local_resources");
}

}  // namespace
}  // namespace dotpin::tls

// Over scripted links: the shard's clock is the test's alone, and so is every peer's behaviour.
namespace dotpin::tls {
namespace {

using test::ScriptedPeer;

class ScriptedShardTest : public ::testing::Test {
 protected:
  UpstreamPins named(const std::string& name) {
    UpstreamPins u;
    u.name = name;
    u.address = *parse_endpoint("192.0.2.1", 853, false);
    return u;
  }

  std::unique_ptr<DotShard> make_shard(std::vector<const UpstreamPins*> ups, std::map<std::string, ScriptedPeer*> peers,
                                       ShardOptions o = {}) {
    o.link_factory = test::scripted_links(std::move(peers));
    o.pin_recheck_interval = std::chrono::hours(24);  // scripted links carry no chain to judge
    std::vector<ShardUpstream> cfg;
    for (const auto* u : ups) cfg.push_back({u, &ctx_});
    return std::make_unique<DotShard>(reactor_, cfg, 1, o,
                                      [this](std::uint64_t cookie, DotShard::Outcome out, std::span<const std::uint8_t> r,
                                             const dns::Ede& ede) {
                                        EXPECT_FALSE(results_.contains(cookie)) << "completed twice: " << cookie;
                                        results_[cookie] = {{r.begin(), r.end()}, out, ede.code, std::string(ede.text)};
                                      });
  }
  /// One poll, @p step after the last.
  void step(DotShard& shard, Clock::duration step = 1ms) {
    t_ += step;
    shard.poll(t_);
  }

  ClientContext ctx_;  // never used by scripted links
  UringReactor reactor_{8};
  std::map<std::uint64_t, Result> results_;
  Clock::time_point t_ = Clock::time_point{} + std::chrono::hours(1);
};

TEST_F(ScriptedShardTest, LowestLatencyPrefersTheFasterUpstreamAndStillMeasuresTheOther) {
  ScriptedPeer slow, fast;
  slow.latency = 30ms;
  fast.latency = 1ms;
  const auto us = named("slow");
  const auto uf = named("fast");
  ShardOptions o;
  o.policy = ShardOptions::Policy::kLowestLatency;
  auto shard = make_shard({&us, &uf}, {{"slow", &slow}, {"fast", &fast}}, o);
  for (std::uint64_t i = 0; i < 200; ++i) {
    ASSERT_TRUE(shard->submit(i, query(1), t_));
    while (!results_.contains(i)) step(*shard);
  }
  // Pick 1 goes to the first unmeasured upstream (slow), pick 2 to the other unmeasured one; from
  // then on fast, except every 16th pick, which is round robin (12 of them: slow, fast, slow...).
  EXPECT_EQ(shard->stats(0).answers, 1u + 6u);
  EXPECT_EQ(shard->stats(1).answers, 1u + 186u + 6u);
  EXPECT_NEAR(shard->stats(0).rtt_ewma_us, 30000.0, 1e-6);  // the same round trip every time
  EXPECT_NEAR(shard->stats(1).rtt_ewma_us, 1000.0, 1e-6);
  EXPECT_EQ(shard->latency(1).count(), 193u);
}

TEST_F(ScriptedShardTest, UpstreamKilledMidLoadLosesNothing) {
  ScriptedPeer a, b;
  a.latency = 20ms;  // its queries are still in flight when it dies
  b.latency = 1ms;
  const auto ua = named("a");
  const auto ub = named("b");
  auto shard = make_shard({&ua, &ub}, {{"a", &a}, {"b", &b}});
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(shard->submit(i, query(3), t_));  // round robin
  step(*shard);  // both connect and get their 50
  EXPECT_EQ(a.queries, 50u);
  EXPECT_EQ(b.queries, 50u);
  step(*shard);
  EXPECT_EQ(results_.size(), 50u);  // b's
  a.kill(FailureReason::kReset);
  step(*shard);  // a's 50 are retried on b ...
  step(*shard);  // ... and answered
  ASSERT_EQ(results_.size(), 100u);
  for (const auto& [cookie, r] : results_) EXPECT_EQ(r.outcome, DotShard::Outcome::kAnswer) << cookie;
  EXPECT_EQ(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kReset)], 1u);
  EXPECT_EQ(shard->stats(0).retries, 50u);
  EXPECT_EQ(shard->stats(0).health, UpstreamHealth::kBackingOff);
  EXPECT_EQ(shard->stats(1).answers, 100u);
  EXPECT_EQ(b.queries, 100u);
  EXPECT_EQ(shard->pending(), 0u);
}

TEST_F(ScriptedShardTest, ConnectionThatCannotBeCreatedIsLocalResourcesAndTheQueryGoesElsewhere) {
  for (const auto how : {ScriptedPeer::Open::kNull, ScriptedPeer::Open::kThrow}) {
    const auto ua = named("a");
    const auto ub = named("b");
    {
      results_.clear();
      ScriptedPeer a, b;
      a.open = how;
      auto shard = make_shard({&ua, &ub}, {{"a", &a}, {"b", &b}});
      ASSERT_TRUE(shard->submit(1, query(1), t_));  // round robin: a first; nothing leaves submit
      step(*shard);
      step(*shard);
      ASSERT_EQ(results_.size(), 1u);
      EXPECT_EQ(results_[1].outcome, DotShard::Outcome::kAnswer);
      EXPECT_EQ(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kLocalResources)], 1u);
      EXPECT_EQ(shard->stats(0).retries, 1u);
      EXPECT_EQ(shard->stats(0).connections, 0u);
      EXPECT_EQ(shard->stats(1).answers, 1u);
    }
    {
      // Neither can open one: SERVFAIL with EDE 0 within submit, each upstream counting it once.
      results_.clear();
      ScriptedPeer a, b;
      a.open = b.open = how;
      auto shard = make_shard({&ua, &ub}, {{"a", &a}, {"b", &b}});
      ASSERT_TRUE(shard->submit(2, query(2), t_));
      ASSERT_EQ(results_.size(), 1u);
      EXPECT_EQ(results_[2].outcome, DotShard::Outcome::kServfail);
      EXPECT_EQ(results_[2].ede, dns::EdeCode::kOther);
      EXPECT_EQ(results_[2].text, "dotpin: upstream a local_resources");
      EXPECT_EQ(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kLocalResources)], 1u);
      EXPECT_EQ(shard->stats(1).failures[static_cast<std::size_t>(FailureReason::kLocalResources)], 1u);
      EXPECT_EQ(shard->pending(), 0u);
    }
  }
}

TEST_F(ScriptedShardTest, SilentUpstreamTimesOutAtItsDeadline) {
  ScriptedPeer s;
  s.silent = true;
  const auto us = named("s");
  ShardOptions o;
  o.query_timeout = 300ms;
  auto shard = make_shard({&us}, {{"s", &s}}, o);
  const auto t0 = t_;
  ASSERT_TRUE(shard->submit(1, query(1), t0));
  step(*shard);
  EXPECT_EQ(s.queries, 1u);
  // The expiry scan runs every 10 ms of the shard's time: nothing before the deadline, SERVFAIL
  // at the first scan from it on.
  while (t_ < t0 + 290ms) step(*shard, 10ms);
  EXPECT_TRUE(results_.empty());
  while (t_ < t0 + 310ms) step(*shard, 10ms);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[1].outcome, DotShard::Outcome::kServfail);
  EXPECT_EQ(shard->stats(0).timeouts, 1u);
}

TEST_F(ScriptedShardTest, AnAnswerToAnIdNeverSentIsAProtocolFaultAndTheQueryFailsOver) {
  ScriptedPeer bad, good;
  bad.wrong_id = true;
  const auto ub = named("bad"), ug = named("good");
  auto shard = make_shard({&ub, &ug}, {{"bad", &bad}, {"good", &good}});
  ASSERT_TRUE(shard->submit(1, query(1), t_));  // round robin: one of the two goes to bad
  ASSERT_TRUE(shard->submit(2, query(2), t_));
  for (int i = 0; i < 20 && results_.size() < 2; ++i) step(*shard, 5ms);
  ASSERT_EQ(results_.size(), 2u);  // both answered by good, at once: no query timeout waited for
  EXPECT_EQ(results_[1].outcome, DotShard::Outcome::kAnswer);
  EXPECT_EQ(results_[2].outcome, DotShard::Outcome::kAnswer);
  EXPECT_EQ(bad.queries, 1u);
  EXPECT_EQ(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kProtocol)], 1u);  // bad's
  EXPECT_EQ(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kUnresponsive)], 0u);
  EXPECT_EQ(shard->stats(0).unmatched, 1u);
  EXPECT_EQ(shard->stats(1).answers, 2u);
}

TEST_F(ScriptedShardTest, ADownUpstreamIsProbedAndTakenBackWithoutWaitingForItsBackoff) {
  ScriptedPeer p;
  p.refuse = FailureReason::kConnectRefused;
  const auto up = named("p");
  ShardOptions o;
  o.backoff_initial = 10000ms;  // the query backoff alone would keep it out for 5-15 s
  o.probe_interval = 500ms;
  auto shard = make_shard({&up}, {{"p", &p}}, o);
  ASSERT_TRUE(shard->submit(1, query(1), t_));
  for (int i = 0; i < 5; ++i) step(*shard, 10ms);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[1].outcome, DotShard::Outcome::kServfail);
  EXPECT_EQ(shard->stats(0).health, UpstreamHealth::kBackingOff);
  // Down: a probe every 500 ms, with no query waiting; each fails while the upstream refuses.
  for (int i = 0; i < 140; ++i) step(*shard, 10ms);  // 1.4 s: probes 375-625 ms apart
  EXPECT_GE(shard->stats(0).probes, 2u);
  EXPECT_LE(shard->stats(0).probes, 3u);
  EXPECT_EQ(p.opened, 1 + shard->stats(0).probes);
  EXPECT_EQ(p.queries, 0u);  // a probe carries no client's query
  // The upstream comes back: the next probe takes it back, well before its 10 s backoff ends.
  p.refuse = FailureReason::kNone;
  const auto back = t_;
  while (shard->stats(0).health != UpstreamHealth::kUp && t_ < back + 2000ms) step(*shard, 10ms);
  EXPECT_EQ(shard->stats(0).health, UpstreamHealth::kUp);
  EXPECT_LE(t_ - back, 640ms);  // within a (jittered) probe interval
  ASSERT_TRUE(shard->submit(2, query(2), t_));
  for (int i = 0; i < 5; ++i) step(*shard, 10ms);
  EXPECT_EQ(results_[2].outcome, DotShard::Outcome::kAnswer);
}

TEST_F(ScriptedShardTest, APinFailedUpstreamIsProbedOnlyAtItsBackoff) {
  ScriptedPeer p;
  p.refuse = FailureReason::kPinMismatch;
  const auto up = named("p");
  ShardOptions o;
  o.backoff_initial = 10000ms;
  auto shard = make_shard({&up}, {{"p", &p}}, o);
  ASSERT_TRUE(shard->submit(1, query(1), t_));
  for (int i = 0; i < 300; ++i) step(*shard, 10ms);  // 3 s: inside the first backoff (5-15 s)
  EXPECT_EQ(shard->stats(0).health, UpstreamHealth::kPinFailed);
  EXPECT_EQ(shard->stats(0).probes, 0u);  // no full handshake with the impostor every 500 ms
  EXPECT_EQ(p.opened, 1u);
}

TEST_F(ScriptedShardTest, NoProbesWhenDisabledOrDrained) {
  ScriptedPeer p;
  p.refuse = FailureReason::kConnectRefused;
  const auto up = named("p");
  ShardOptions o;
  o.probe_interval = 0ms;
  auto shard = make_shard({&up}, {{"p", &p}}, o);
  ASSERT_TRUE(shard->submit(1, query(1), t_));
  for (int i = 0; i < 200; ++i) step(*shard, 10ms);
  EXPECT_EQ(shard->stats(0).probes, 0u);
  EXPECT_EQ(p.opened, 1u);
}

TEST_F(ScriptedShardTest, AMessageThatNeverCompletesIsAProtocolFaultNotUnresponsive) {
  ScriptedPeer p;
  p.partial = true;
  const auto up = named("p");
  ShardOptions o;
  o.query_timeout = 300ms;
  auto shard = make_shard({&up}, {{"p", &p}}, o);
  ASSERT_TRUE(shard->submit(1, query(1), t_));
  for (int i = 0; i < 100; ++i) step(*shard, 10ms);  // a timeout for the query, another for the link
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[1].outcome, DotShard::Outcome::kServfail);
  EXPECT_EQ(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kProtocol)], 1u);
  EXPECT_EQ(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kUnresponsive)], 0u);
}

}  // namespace
}  // namespace dotpin::tls

namespace dotpin::tls {
namespace {

// A pin change: the new generation keeps an established connection whose chain still matches,
// drains one whose chain no longer does (its written queries are answered on it), and sends new
// queries over connections authenticated under the new pins. Nothing is lost.
class ShardPinChangeTest : public ShardTest {
 protected:
  std::vector<ShardUpstream> config(std::initializer_list<const UpstreamPins*> ups) {
    std::vector<ShardUpstream> cfg;
    for (const auto* u : ups) cfg.push_back({u, &ctx_, nullptr});
    return cfg;
  }
};

TEST_F(ShardPinChangeTest, ConnectionStillMatchingTheNewPinsIsKept) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto g1 = upstream_at("a", genuine.address());
  auto shard = make_shard({&g1});
  ASSERT_TRUE(shard->submit(1, query(1), now()));
  run_until(*shard, 1);
  // Generation 2: the spare pin goes, the leaf's stays: the open connection still satisfies it.
  UpstreamPins g2 = g1;
  g2.pins.pop_back();
  EXPECT_EQ(shard->update_pins(config({&g2}), 2, now(), now_utc()), 0u);
  ASSERT_TRUE(shard->submit(2, query(2), now()));
  run_until(*shard, 2);
  EXPECT_EQ(results_[2].outcome, DotShard::Outcome::kAnswer);
  EXPECT_EQ(shard->stats(0).connections, 1u);
  EXPECT_EQ(shard->stats(0).drained_connections, 0u);
  EXPECT_EQ(shard->generation(), 2u);
}

TEST_F(ShardPinChangeTest, ConnectionNoLongerMatchingIsDrainedAndItsQueriesAnswered) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  SocketDotResponder other(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto a1 = upstream_at("a", genuine.address());
  const auto b1 = upstream_at("b", other.address());
  auto shard = make_shard({&a1, &b1});
  ASSERT_TRUE(shard->submit(1, query(1), now()));  // round robin: to a
  ASSERT_TRUE(shard->submit(2, query(2), now()));  // to b
  run_until(*shard, 2);
  ASSERT_EQ(results_.size(), 2u);
  genuine.hold = true;  // a reads its next queries and answers none until the pins have changed
  // Ten queries in flight to a when its pins change to the spare key only (written in one TLS
  // write: the responder has read all ten when it counts them).
  for (std::uint64_t i = 10; i < 30; ++i) ASSERT_TRUE(shard->submit(i, query(static_cast<std::uint16_t>(i)), now()));
  poll_until(*shard, [&] { return genuine.queries.load() == 11; });
  ASSERT_EQ(genuine.queries.load(), 11);
  UpstreamPins a2 = a1;
  a2.pins.erase(a2.pins.begin());  // only "spare" remains: the server's key no longer matches
  EXPECT_EQ(shard->update_pins(config({&a2, &b1}), 2, now(), now_utc()), 1u);
  genuine.hold = false;
  for (std::uint64_t i = 30; i < 50; ++i) ASSERT_TRUE(shard->submit(i, query(static_cast<std::uint16_t>(i)), now()));
  run_until(*shard, 42);
  EXPECT_EQ(results_.size(), 42u);
  for (const auto& [cookie, r] : results_) EXPECT_EQ(r.outcome, DotShard::Outcome::kAnswer) << cookie;
  const auto& a = shard->stats(0);
  EXPECT_EQ(a.drained_connections, 1u);
  // A new connection to a under generation 2 was refused (its key is no longer pinned), and the
  // queries sent its way went to b instead.
  EXPECT_GE(a.failures[static_cast<std::size_t>(FailureReason::kPinMismatch)], 1u);
  EXPECT_EQ(a.health, UpstreamHealth::kPinFailed);
  EXPECT_EQ(shard->pending(), 0u);
  EXPECT_EQ(genuine.queries.load(), 11);  // nothing after the change: its new connection was refused
}

TEST_F(ShardPinChangeTest, RemovedUpstreamDrainsAndRenamedOrderIsFollowed) {
  SocketDotResponder ra(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  SocketDotResponder rb(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto a = upstream_at("a", ra.address());
  const auto b = upstream_at("b", rb.address());
  auto shard = make_shard({&a, &b});
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(shard->submit(i, query(1), now()));
  run_until(*shard, 4);
  const auto b_answers = shard->stats(1).answers;
  // Generation 2 has only b: stats follow the new order, a's connection drains away.
  EXPECT_EQ(shard->update_pins(config({&b}), 2, now(), now_utc()), 1u);
  ASSERT_EQ(shard->upstream_count(), 1u);
  EXPECT_EQ(shard->upstream_name(0), "b");
  EXPECT_EQ(shard->stats(0).answers, b_answers);  // carried over by name
  for (std::uint64_t i = 10; i < 20; ++i) ASSERT_TRUE(shard->submit(i, query(1), now()));
  run_until(*shard, 14);
  EXPECT_EQ(shard->stats(0).answers, b_answers + 10);
}

TEST_F(ShardPinChangeTest, TicketsOfTheOldGenerationAreNotResumed) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto g1 = upstream_at("a", genuine.address());
  ShardOptions o;
  o.idle_timeout = 100ms;
  auto shard = make_shard({&g1}, o);
  ASSERT_TRUE(shard->submit(1, query(1), now()));
  run_until(*shard, 1);
  advance(o.idle_timeout);
  shard->poll(now());
  ASSERT_EQ(shard->stats(0).idle_closes, 1u);
  shard->update_pins(config({&g1}), 2, now(), now_utc());  // same pins, new generation
  ASSERT_TRUE(shard->submit(2, query(2), now()));
  run_until(*shard, 2);
  EXPECT_EQ(results_[2].outcome, DotShard::Outcome::kAnswer);
  EXPECT_EQ(shard->stats(0).resumptions_offered, 0u);  // the generation-1 ticket was dropped
  EXPECT_EQ(shard->stats(0).full_handshakes, 2u);
}

TEST_F(ShardPinChangeTest, DrainedUpstreamGetsNoQueriesUntilEnabled) {
  SocketDotResponder ra(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  SocketDotResponder rb(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto a = upstream_at("a", ra.address());
  const auto b = upstream_at("b", rb.address());
  auto shard = make_shard({&a, &b});
  EXPECT_TRUE(shard->set_drained("a", true, now()));
  EXPECT_FALSE(shard->set_drained("nosuch", true, now()));
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(shard->submit(i, query(1), now()));
  run_until(*shard, 10);
  EXPECT_EQ(shard->stats(0).queries, 0u);
  EXPECT_EQ(shard->stats(1).answers, 10u);
  EXPECT_TRUE(shard->stats(0).drained);
  EXPECT_TRUE(shard->set_drained("a", false, now()));
  for (std::uint64_t i = 10; i < 20; ++i) ASSERT_TRUE(shard->submit(i, query(1), now()));
  run_until(*shard, 20);
  EXPECT_EQ(shard->stats(0).answers, 5u);  // round robin again
}

}  // namespace
}  // namespace dotpin::tls
