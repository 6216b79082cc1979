// SPDX-License-Identifier: Apache-2.0
// DotShard over real loopback sockets and io_uring against in-process wolfSSL responders.
#include "tls/shard.h"

#include <gtest/gtest.h>

#include <map>

#include "common/dns_wire.h"
#include "tests/test_pki.h"
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

class ShardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DOTPIN_REQUIRE_PKI();
    ctx_ = std::move(*make_client_ctx(""));
  }

  std::unique_ptr<DotShard> make_shard(std::vector<const UpstreamPins*> ups, ShardOptions o = {}) {
    std::vector<ShardUpstream> cfg;
    for (const auto* u : ups) cfg.push_back({u, &ctx_});
    return std::make_unique<DotShard>(reactor_, cfg, 1, o,
                                      [this](std::uint64_t cookie, DotShard::Outcome out, std::span<const std::uint8_t> r,
                                             const dns::Ede& ede) {
                                        EXPECT_FALSE(results_.contains(cookie)) << "completed twice: " << cookie;
                                        // A failure carries no bytes: the caller writes the SERVFAIL.
                                        EXPECT_EQ(out == DotShard::Outcome::kAnswer, !r.empty()) << cookie;
                                        results_[cookie] = {{r.begin(), r.end()}, out, ede.code, std::string(ede.text)};
                                      });
  }

  /// Polls until @p n results are in or @p limit passes.
  void run_until(DotShard& shard, std::size_t n, std::chrono::milliseconds limit = 10s) {
    const auto end = Clock::now() + limit;
    while (results_.size() < n && Clock::now() < end) shard.poll(Clock::now(), 2ms);
  }

  ClientContext ctx_;
  UringReactor reactor_{256};
  std::map<std::uint64_t, Result> results_;
};

TEST_F(ShardTest, AnswersWithTheClientsOwnIdsEvenWhenTheyCollide) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto up = upstream_at("a", genuine.address());
  auto shard = make_shard({&up});
  // 200 queries, all with client ID 7, plus some others: the wire IDs must differ.
  for (std::uint64_t i = 0; i < 200; ++i) ASSERT_TRUE(shard->submit(i, query(i < 150 ? 7 : static_cast<std::uint16_t>(i)), Clock::now()));
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
  for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(shard->submit(i, query(static_cast<std::uint16_t>(i)), Clock::now()));
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
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(shard->submit(i, query(1), Clock::now()));
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
  ASSERT_TRUE(shard->submit(1, query(0x4242), Clock::now()));
  run_until(*shard, 1);
  ASSERT_EQ(results_.size(), 1u);
  const Result& r = results_[1];
  EXPECT_EQ(r.outcome, DotShard::Outcome::kServfail);
  EXPECT_EQ(r.ede, dns::EdeCode::kNoReachableAuthority);  // 22: a refused pin
  EXPECT_EQ(r.text, "dotpin: upstream impostor pin_mismatch");
  EXPECT_EQ(impostor.queries.load(), 0);
  // Backing off now: the next query is answered at once, without a new connection attempt.
  const auto conns = shard->stats(0).connections;
  ASSERT_TRUE(shard->submit(2, query(1), Clock::now()));
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
  const auto up = upstream_at("a", genuine.address());
  auto shard = make_shard({&up});
  dns::QueryOptions o;
  o.id = 5;
  o.edns = false;
  const auto plain = *dns::build_query("www.dotpin.test", dns::kTypeA, o);
  ASSERT_TRUE(shard->submit(1, plain, Clock::now()));
  o.edns = true;
  o.pad_block = 0;
  ASSERT_TRUE(shard->submit(2, *dns::build_query("www.dotpin.test", dns::kTypeA, o), Clock::now()));
  run_until(*shard, 2);
  ASSERT_EQ(results_.size(), 2u);
  // The responder echoes what it got: the padded query. The client without EDNS gets it back
  // without the OPT record the shard added; the EDNS client keeps its OPT (now padded).
  EXPECT_EQ(dns::read_header(results_[1].bytes)->arcount, 0);
  EXPECT_EQ(results_[1].bytes.size(), plain.size());
  EXPECT_EQ(dns::read_header(results_[2].bytes)->arcount, 1);
  EXPECT_EQ(results_[2].bytes.size() % 128, 0u);
}

TEST_F(ShardTest, UpstreamKilledMidLoadLosesNothing) {
  SocketDotResponder a(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  SocketDotResponder b(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  a.delay_ms = 20;  // keep queries in flight on A when it dies
  const auto ua = upstream_at("a", a.address());
  const auto ub = upstream_at("b", b.address());
  auto shard = make_shard({&ua, &ub});
  std::uint64_t next = 0;
  const auto start = Clock::now();
  bool killed = false;
  while (Clock::now() - start < 1500ms) {
    for (int k = 0; k < 20 && next < 2000; ++k) ASSERT_TRUE(shard->submit(next++, query(3), Clock::now()));
    shard->poll(Clock::now(), 1ms);
    if (!killed && Clock::now() - start > 300ms) {
      a.kill();
      killed = true;
    }
  }
  run_until(*shard, next);
  EXPECT_EQ(results_.size(), next);  // every query completed exactly once: none lost, none hung
  std::size_t answers = 0;
  for (auto& [cookie, r] : results_) answers += r.outcome == DotShard::Outcome::kAnswer;
  EXPECT_GT(answers, next * 8 / 10);  // the pool kept answering through B
  EXPECT_GE(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kReset)], 1u);
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
  ASSERT_TRUE(shard->submit(1, query(1), Clock::now()));
  run_until(*shard, 1);
  ASSERT_EQ(results_[1].outcome, DotShard::Outcome::kAnswer);
  EXPECT_EQ(shard->stats(0).drained_connections, 0u);
  shard->poll(Clock::now());
  EXPECT_EQ(shard->stats(0).drained_connections, 0u);  // still in window: kept
  wall += 2h;                                         // the window closes while the connection is up
  shard->poll(Clock::now());
  EXPECT_EQ(shard->stats(0).drained_connections, 1u);
  // The next query needs a new connection, whose full handshake finds no pin valid now.
  ASSERT_TRUE(shard->submit(2, query(2), Clock::now()));
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
  ASSERT_TRUE(shard->submit(1, query(1), Clock::now()));
  run_until(*shard, 1);
  // Let the connection go idle and close.
  const auto until = Clock::now() + 600ms;
  while (Clock::now() < until) shard->poll(Clock::now(), 5ms);
  EXPECT_EQ(shard->stats(0).idle_closes, 1u);
  ASSERT_TRUE(shard->submit(2, query(2), Clock::now()));
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
  for (std::uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(shard->submit(i, query(9), Clock::now()));
  run_until(*shard, 5, 3s);
  ASSERT_EQ(results_.size(), 5u);
  for (auto& [cookie, r] : results_) {
    EXPECT_EQ(r.outcome, DotShard::Outcome::kServfail);
    EXPECT_EQ(r.ede, dns::EdeCode::kNetworkError);  // 23
    EXPECT_EQ(r.text, "dotpin: upstream timed out");
  }
  EXPECT_EQ(shard->stats(0).timeouts, 5u);
  EXPECT_EQ(shard->pending(), 0u);
  // Nothing arrives for another query timeout: the connection is closed as unresponsive and the
  // upstream backs off, instead of keeping the reserved IDs of abandoned queries forever.
  const auto until = Clock::now() + 1s;
  while (Clock::now() < until && shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kUnresponsive)] == 0)
    shard->poll(Clock::now(), 5ms);
  EXPECT_EQ(shard->stats(0).failures[static_cast<std::size_t>(FailureReason::kUnresponsive)], 1u);
  EXPECT_EQ(shard->stats(0).health, UpstreamHealth::kBackingOff);
}

TEST_F(ShardTest, RefusesBeyondItsBoundAndUnreadableQueries) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto up = upstream_at("a", genuine.address());
  ShardOptions o;
  o.max_pending = 10;
  auto shard = make_shard({&up}, o);
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(shard->submit(i, query(1), Clock::now()));
  EXPECT_FALSE(shard->submit(10, query(1), Clock::now()));
  const std::uint8_t junk[] = {1, 2, 3};
  EXPECT_FALSE(shard->submit(11, junk, Clock::now()));
  run_until(*shard, 10);
  EXPECT_EQ(results_.size(), 10u);
}

TEST_F(ShardTest, LowestLatencyPrefersTheFasterUpstream) {
  SocketDotResponder slow(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  SocketDotResponder fast(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  slow.delay_ms = 30;
  const auto us = upstream_at("slow", slow.address());
  const auto uf = upstream_at("fast", fast.address());
  ShardOptions o;
  o.policy = ShardOptions::Policy::kLowestLatency;
  auto shard = make_shard({&us, &uf}, o);
  for (std::uint64_t i = 0; i < 200; ++i) {
    ASSERT_TRUE(shard->submit(i, query(1), Clock::now()));
    run_until(*shard, i + 1);
  }
  EXPECT_GT(shard->stats(1).answers, 150u) << "slow " << shard->stats(0).rtt_ewma_us << "us fast "
                                            << shard->stats(1).rtt_ewma_us << "us";
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
  ASSERT_TRUE(shard->submit(1, query(1), Clock::now()));
  run_until(*shard, 1);
  // Generation 2: the spare pin goes, the leaf's stays: the open connection still satisfies it.
  UpstreamPins g2 = g1;
  g2.pins.pop_back();
  EXPECT_EQ(shard->update_pins(config({&g2}), 2, Clock::now(), now_utc()), 0u);
  ASSERT_TRUE(shard->submit(2, query(2), Clock::now()));
  run_until(*shard, 2);
  EXPECT_EQ(results_[2].outcome, DotShard::Outcome::kAnswer);
  EXPECT_EQ(shard->stats(0).connections, 1u);
  EXPECT_EQ(shard->stats(0).drained_connections, 0u);
  EXPECT_EQ(shard->generation(), 2u);
}

TEST_F(ShardPinChangeTest, ConnectionNoLongerMatchingIsDrainedAndItsQueriesAnswered) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  SocketDotResponder other(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  genuine.delay_ms = 50;  // queries are still in flight when the pins change
  const auto a1 = upstream_at("a", genuine.address());
  const auto b1 = upstream_at("b", other.address());
  auto shard = make_shard({&a1, &b1});
  ASSERT_TRUE(shard->submit(1, query(1), Clock::now()));  // round robin: to a
  ASSERT_TRUE(shard->submit(2, query(2), Clock::now()));  // to b
  run_until(*shard, 2);
  // Ten queries in flight to a when its pins change to the spare key only.
  for (std::uint64_t i = 10; i < 30; ++i) ASSERT_TRUE(shard->submit(i, query(static_cast<std::uint16_t>(i)), Clock::now()));
  const auto until = Clock::now() + 10ms;
  while (Clock::now() < until) shard->poll(Clock::now(), 1ms);
  UpstreamPins a2 = a1;
  a2.pins.erase(a2.pins.begin());  // only "spare" remains: the server's key no longer matches
  EXPECT_EQ(shard->update_pins(config({&a2, &b1}), 2, Clock::now(), now_utc()), 1u);
  for (std::uint64_t i = 30; i < 50; ++i) ASSERT_TRUE(shard->submit(i, query(static_cast<std::uint16_t>(i)), Clock::now()));
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
  // The drained connection closed once its queries were answered.
  const auto settle = Clock::now() + 200ms;
  while (Clock::now() < settle) shard->poll(Clock::now(), 2ms);
}

TEST_F(ShardPinChangeTest, RemovedUpstreamDrainsAndRenamedOrderIsFollowed) {
  SocketDotResponder ra(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  SocketDotResponder rb(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto a = upstream_at("a", ra.address());
  const auto b = upstream_at("b", rb.address());
  auto shard = make_shard({&a, &b});
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(shard->submit(i, query(1), Clock::now()));
  run_until(*shard, 4);
  const auto b_answers = shard->stats(1).answers;
  // Generation 2 has only b: stats follow the new order, a's connection drains away.
  EXPECT_EQ(shard->update_pins(config({&b}), 2, Clock::now(), now_utc()), 1u);
  ASSERT_EQ(shard->upstream_count(), 1u);
  EXPECT_EQ(shard->upstream_name(0), "b");
  EXPECT_EQ(shard->stats(0).answers, b_answers);  // carried over by name
  for (std::uint64_t i = 10; i < 20; ++i) ASSERT_TRUE(shard->submit(i, query(1), Clock::now()));
  run_until(*shard, 14);
  EXPECT_EQ(shard->stats(0).answers, b_answers + 10);
}

TEST_F(ShardPinChangeTest, TicketsOfTheOldGenerationAreNotResumed) {
  SocketDotResponder genuine(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"));
  const auto g1 = upstream_at("a", genuine.address());
  ShardOptions o;
  o.idle_timeout = 100ms;
  auto shard = make_shard({&g1}, o);
  ASSERT_TRUE(shard->submit(1, query(1), Clock::now()));
  run_until(*shard, 1);
  auto idle = Clock::now() + 400ms;
  while (Clock::now() < idle) shard->poll(Clock::now(), 5ms);
  ASSERT_EQ(shard->stats(0).idle_closes, 1u);
  shard->update_pins(config({&g1}), 2, Clock::now(), now_utc());  // same pins, new generation
  ASSERT_TRUE(shard->submit(2, query(2), Clock::now()));
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
  EXPECT_TRUE(shard->set_drained("a", true, Clock::now()));
  EXPECT_FALSE(shard->set_drained("nosuch", true, Clock::now()));
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(shard->submit(i, query(1), Clock::now()));
  run_until(*shard, 10);
  EXPECT_EQ(shard->stats(0).queries, 0u);
  EXPECT_EQ(shard->stats(1).answers, 10u);
  EXPECT_TRUE(shard->stats(0).drained);
  EXPECT_TRUE(shard->set_drained("a", false, Clock::now()));
  for (std::uint64_t i = 10; i < 20; ++i) ASSERT_TRUE(shard->submit(i, query(1), Clock::now()));
  run_until(*shard, 20);
  EXPECT_EQ(shard->stats(0).answers, 5u);  // round robin again
}

}  // namespace
}  // namespace dotpin::tls
