// SPDX-License-Identifier: Apache-2.0
// DotConnection against an in-process wolfSSL server over memory buffers: authentication before the
// first write, failure reasons, pinned ticket resumption, coalesced and pipelined queries.
#include "tls/dot_connection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "tests/test_pki.h"
#include "tests/tls/memory_dot_server.h"

namespace dotpin::tls {
namespace {

using test::MemoryDotServer;
using test::pki_dir;
using test::reference_pin;

const UnixTime kNow = now_utc();

Pin pin_of(const std::string& stem, std::string label) {
  Pin p;
  p.digest = *parse_pin_base64(reference_pin(stem));
  p.label = std::move(label);
  return p;
}

UpstreamPins upstream_with(std::vector<Pin> pins, PinMode mode = PinMode::kEnforce) {
  UpstreamPins u;
  u.name = "lab";
  u.auth_name = "dns.dotpin.test";
  u.mode = mode;
  u.pins = std::move(pins);
  return u;
}

std::vector<std::uint8_t> query(std::uint16_t id) {
  // Header (id, RD), one question www.dotpin.test. A IN.
  std::vector<std::uint8_t> q{static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  for (const char* label : {"www", "dotpin", "test"}) {
    q.push_back(static_cast<std::uint8_t>(std::strlen(label)));
    q.insert(q.end(), label, label + std::strlen(label));
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

class DotConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DOTPIN_REQUIRE_PKI();
    auto plain = make_client_ctx("");
    ASSERT_TRUE(plain.ok()) << plain.error();
    pins_only_ = std::move(*plain);
    auto with_ca = make_client_ctx(pki_dir() + "/ca-bundle.pem");
    ASSERT_TRUE(with_ca.ok()) << with_ca.error();
    pkix_ = std::move(*with_ca);
  }

  MemoryDotServer server(const std::string& stem) {
    return MemoryDotServer(pki_dir() + "/" + stem + ".key", pki_dir() + "/" + stem + ".chain.pem");
  }

  std::vector<Pin> standard_pins() { return {pin_of("leaf-p256", "primary"), pin_of("spare", "backup")}; }

  ClientContext pins_only_, pkix_;
};

TEST_F(DotConnectionTest, GenuineUpstreamIsReadyAndAnswers) {
  auto srv = server("leaf-p256");
  auto up = upstream_with(standard_pins());
  DotConnection c(pins_only_, up, 1, nullptr);
  auto s = srv.accept();
  MemoryDotServer::pump(c, *s, kNow);
  ASSERT_EQ(c.state(), DotConnection::State::kReady) << to_string(c.failure()) << " tls " << c.tls_error();
  EXPECT_EQ(c.verdict().code, PinVerdictCode::kMatch);
  EXPECT_EQ(c.verdict().matched_pin, 0);
  EXPECT_FALSE(c.resumed());

  // Three queries leave in one TLS write and come back as three messages.
  const auto q1 = query(1), q2 = query(2), q3 = query(3);
  const std::span<const std::uint8_t> batch[] = {q1, q2, q3};
  ASSERT_TRUE(c.send(batch));
  MemoryDotServer::pump(c, *s, kNow);
  std::vector<std::uint16_t> ids;
  ASSERT_EQ(c.receive([&](std::span<const std::uint8_t> m) {
    EXPECT_TRUE(m[2] & 0x80);
    ids.push_back(static_cast<std::uint16_t>(m[0] << 8 | m[1]));
  }), IoState::kNeedRead);
  EXPECT_EQ(ids, (std::vector<std::uint16_t>{1, 2, 3}));
  EXPECT_EQ(s->queries, 3u);
}

TEST_F(DotConnectionTest, ImpostorIsRefusedBeforeAnyQueryIsWritten) {
  auto srv = server("impostor");  // CA-valid for the same name, another key
  auto up = upstream_with(standard_pins());
  DotConnection c(pkix_, up, 1, nullptr);
  auto s = srv.accept();
  MemoryDotServer::pump(c, *s, kNow);
  ASSERT_EQ(c.state(), DotConnection::State::kFailed);
  EXPECT_EQ(c.failure(), FailureReason::kPinMismatch);
  // CA mode: the two presented certificates, and the root the path reached from the CA file.
  ASSERT_EQ(c.verdict().presented, 2u);
  ASSERT_EQ(c.verdict().observed_count, 3u);
  EXPECT_TRUE(c.verdict().anchored);
  EXPECT_TRUE(c.verdict().observed[2].anchor);
  EXPECT_EQ(pin_base64(c.verdict().observed[2].digest), reference_pin("root"));
  EXPECT_EQ(pin_base64(c.verdict().observed[0].digest), reference_pin("impostor"));
  const auto q = query(7);
  const std::span<const std::uint8_t> batch[] = {q};
  EXPECT_FALSE(c.send(batch));
  MemoryDotServer::pump(c, *s, kNow);
  EXPECT_EQ(s->app_bytes, 0u);
  EXPECT_EQ(s->queries, 0u);
}

TEST_F(DotConnectionTest, BackupPinAndCaPinAreAccepted) {
  auto srv = server("leaf-p256");
  for (auto pins : {std::vector<Pin>{pin_of("leaf-rsa2048", "old"), pin_of("leaf-p256", "backup")},
                    std::vector<Pin>{pin_of("spare", "backup"), pin_of("issuing", "ca")}}) {
    auto up = upstream_with(pins);
    DotConnection c(pins_only_, up, 1, nullptr);
    auto s = srv.accept();
    MemoryDotServer::pump(c, *s, kNow);
    EXPECT_EQ(c.state(), DotConnection::State::kReady) << to_string(c.failure());
    EXPECT_EQ(c.verdict().matched_pin, 1);
  }
}

TEST_F(DotConnectionTest, PinOutsideItsWindowIsRefused) {
  auto srv = server("leaf-p256");
  auto pins = standard_pins();
  pins[0].not_after = kNow - std::chrono::seconds(1);
  auto up = upstream_with(pins);
  DotConnection c(pins_only_, up, 1, nullptr);
  auto s = srv.accept();
  MemoryDotServer::pump(c, *s, kNow);
  EXPECT_EQ(c.state(), DotConnection::State::kFailed);
  EXPECT_EQ(c.failure(), FailureReason::kNoPinInWindow);
}

TEST_F(DotConnectionTest, ReportModeConnectsAndSaysSo) {
  auto srv = server("impostor");
  auto up = upstream_with(standard_pins(), PinMode::kReport);
  DotConnection c(pins_only_, up, 1, nullptr);
  auto s = srv.accept();
  MemoryDotServer::pump(c, *s, kNow);
  EXPECT_EQ(c.state(), DotConnection::State::kReady);
  EXPECT_TRUE(c.admitted_by_report_mode());
  EXPECT_EQ(c.verdict().code, PinVerdictCode::kMismatch);
}

TEST_F(DotConnectionTest, NameMismatchIsRefusedEvenWhenThePinMatches) {
  auto srv = server("other-name");  // genuine CA, certificate for wrong.dotpin.test
  auto up = upstream_with({pin_of("other-name", "primary"), pin_of("spare", "backup")});
  for (bool pkix : {false, true}) {
    DotConnection c(pkix ? pkix_ : pins_only_, up, 1, nullptr);
    auto s = srv.accept();
    MemoryDotServer::pump(c, *s, kNow);
    EXPECT_EQ(c.state(), DotConnection::State::kFailed) << "pkix " << pkix;
    EXPECT_EQ(c.failure(), FailureReason::kNameMismatch) << "pkix " << pkix;
    EXPECT_EQ(s->app_bytes, 0u);
  }
}

TEST_F(DotConnectionTest, PkixFailuresHaveTheirReasons) {
  {
    // A CA file that does not hold the issuer: unknown CA, although the pin would match.
    auto ctx = make_client_ctx(pki_dir() + "/other-name.crt");
    ASSERT_TRUE(ctx.ok());
    auto srv = server("leaf-p256");
    auto up = upstream_with(standard_pins());
    DotConnection c(*ctx, up, 1, nullptr);
    auto s = srv.accept();
    MemoryDotServer::pump(c, *s, kNow);
    EXPECT_EQ(c.state(), DotConnection::State::kFailed);
    EXPECT_EQ(c.failure(), FailureReason::kUnknownCa) << c.tls_error();
  }
  {
    auto srv = server("expired");
    auto up = upstream_with({pin_of("expired", "primary"), pin_of("spare", "backup")});
    DotConnection c(pkix_, up, 1, nullptr);
    auto s = srv.accept();
    MemoryDotServer::pump(c, *s, kNow);
    EXPECT_EQ(c.state(), DotConnection::State::kFailed);
    EXPECT_EQ(c.failure(), FailureReason::kExpired) << c.tls_error();
  }
}

TEST_F(DotConnectionTest, ResumptionOnlyWithinTheSamePinGeneration) {
  auto srv = server("leaf-p256");
  auto up = upstream_with(standard_pins());
  TicketCache tickets;
  auto exchange = [&](DotConnection& c, MemoryDotServer::Session& s) {
    MemoryDotServer::pump(c, s, kNow);
    ASSERT_EQ(c.state(), DotConnection::State::kReady) << to_string(c.failure());
    const auto q = query(9);
    const std::span<const std::uint8_t> batch[] = {q};
    ASSERT_TRUE(c.send(batch));
    MemoryDotServer::pump(c, s, kNow);
    int answers = 0;
    c.receive([&](std::span<const std::uint8_t>) { ++answers; });
    EXPECT_EQ(answers, 1);
  };
  {
    DotConnection c(pins_only_, up, 1, &tickets);
    auto s = srv.accept();
    exchange(c, *s);
    EXPECT_FALSE(c.offered_resumption());
    EXPECT_FALSE(c.resumed());
  }
  EXPECT_EQ(tickets.stored(), 1u);
  {
    DotConnection c(pins_only_, up, 1, &tickets);
    auto s = srv.accept();
    exchange(c, *s);
    EXPECT_TRUE(c.offered_resumption());
    EXPECT_TRUE(c.resumed());
  }
  {
    // A new pin-set generation: the old ticket is dropped, a full handshake verifies the pins again.
    DotConnection c(pins_only_, up, 2, &tickets);
    auto s = srv.accept();
    exchange(c, *s);
    EXPECT_FALSE(c.offered_resumption());
    EXPECT_FALSE(c.resumed());
    EXPECT_EQ(c.verdict().code, PinVerdictCode::kMatch);
  }
  EXPECT_EQ(tickets.dropped_stale(), 1u);
}

TEST_F(DotConnectionTest, AnImpostorThatDeclinesTheTicketIsJudgedOnItsOwnChain) {
  // A ticket from the genuine server is offered to an impostor on the path, which declines it and
  // does a full handshake with its own key. wolfSSL then holds the offered session's chain followed
  // by the impostor's: only the certificates of this handshake may be judged.
  auto genuine = server("leaf-p256");
  auto up = upstream_with(standard_pins());
  TicketCache tickets;
  {
    DotConnection c(pins_only_, up, 1, &tickets);
    auto s = genuine.accept();
    MemoryDotServer::pump(c, *s, kNow);
    ASSERT_EQ(c.state(), DotConnection::State::kReady);
    const auto q = query(5);
    const std::span<const std::uint8_t> batch[] = {q};
    ASSERT_TRUE(c.send(batch));
    MemoryDotServer::pump(c, *s, kNow);
    c.receive([](std::span<const std::uint8_t>) {});
  }
  ASSERT_EQ(tickets.stored(), 1u);
  for (const char* stem : {"impostor", "hostile/selfsigned-plus-leaf"}) {
    auto impostor = MemoryDotServer(pki_dir() + "/" + stem + ".key", pki_dir() + "/" + stem + ".chain.pem");
    for (const ClientContext* ctx : {&pins_only_, &pkix_}) {
      DotConnection c(*ctx, up, 1, &tickets);
      ASSERT_TRUE(c.offered_resumption()) << stem;
      auto s = impostor.accept();
      MemoryDotServer::pump(c, *s, kNow);
      EXPECT_FALSE(c.resumed()) << stem;
      EXPECT_EQ(c.state(), DotConnection::State::kFailed) << stem;
      EXPECT_TRUE(is_authentication_failure(c.failure())) << stem << ": " << to_string(c.failure());
      if (c.failure() != FailureReason::kUnknownCa) {  // PKIX (CA mode) stops a self-signed one earlier
        EXPECT_EQ(c.verdict().presented, std::string(stem) == "impostor" ? 2u : 3u) << stem;
        EXPECT_EQ(pin_base64(c.verdict().observed[0].digest), reference_pin(stem)) << stem;
      }
      const auto q = query(6);
      const std::span<const std::uint8_t> batch[] = {q};
      EXPECT_FALSE(c.send(batch));
      MemoryDotServer::pump(c, *s, kNow);
      EXPECT_EQ(s->app_bytes, 0u) << stem;
      // The genuine server is still accepted afterwards (its new ticket is what the next round offers).
      DotConnection again(pins_only_, up, 1, &tickets);
      auto g = genuine.accept();
      MemoryDotServer::pump(again, *g, kNow);
      ASSERT_EQ(again.state(), DotConnection::State::kReady);
      const std::span<const std::uint8_t> b2[] = {q};
      ASSERT_TRUE(again.send(b2));
      MemoryDotServer::pump(again, *g, kNow);
      again.receive([](std::span<const std::uint8_t>) {});
    }
  }
}

TEST_F(DotConnectionTest, ATicketWhosePinWindowClosedIsNotOffered) {
  auto srv = server("leaf-p256");
  Pin windowed = pin_of("leaf-p256", "primary");
  windowed.not_after = kNow + std::chrono::hours(1);
  auto up = upstream_with({windowed, pin_of("spare", "backup")});
  TicketCache tickets;
  {
    DotConnection c(pins_only_, up, 1, &tickets, kNow);
    auto s = srv.accept();
    MemoryDotServer::pump(c, *s, kNow);
    ASSERT_EQ(c.state(), DotConnection::State::kReady);
    const auto q = query(3);
    const std::span<const std::uint8_t> batch[] = {q};
    ASSERT_TRUE(c.send(batch));
    MemoryDotServer::pump(c, *s, kNow);
    c.receive([](std::span<const std::uint8_t>) {});
  }
  ASSERT_EQ(tickets.stored(), 1u);
  // Same generation, but the pin that admitted the ticket's handshake is out of its window now:
  // no resumption; the full handshake is judged afresh (and refused: no pin of this chain is valid).
  const UnixTime later = kNow + std::chrono::hours(2);
  DotConnection c(pins_only_, up, 1, &tickets, later);
  EXPECT_FALSE(c.offered_resumption());
  auto s = srv.accept();
  MemoryDotServer::pump(c, *s, later);
  EXPECT_EQ(c.state(), DotConnection::State::kFailed);
  EXPECT_EQ(c.failure(), FailureReason::kNoPinInWindow);
  EXPECT_EQ(s->app_bytes, 0u);
}

TEST_F(DotConnectionTest, ServersThatOfferOnlyWeakSuitesAreRefusedBeforeAnyQuery) {
  // The genuine key and chain, correctly pinned: only the protocol is wrong.
  for (const char* suites : {"ECDHE-ECDSA-NULL-SHA", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES128-SHA"}) {
    auto srv = server("leaf-p256");
    ASSERT_EQ(wolfSSL_CTX_set_cipher_list(srv.ctx(), suites), WOLFSSL_SUCCESS) << suites;
    auto up = upstream_with(standard_pins());
    DotConnection c(pins_only_, up, 1, nullptr);
    auto s = srv.accept();
    MemoryDotServer::pump(c, *s, kNow);
    EXPECT_EQ(c.state(), DotConnection::State::kFailed) << suites;
    EXPECT_EQ(c.failure(), FailureReason::kTlsParameters) << suites << ": " << to_string(c.failure());
    const auto q = query(1);
    const std::span<const std::uint8_t> batch[] = {q};
    EXPECT_FALSE(c.send(batch));
    MemoryDotServer::pump(c, *s, kNow);
    EXPECT_EQ(s->app_bytes, 0u) << suites;
  }
}

TEST_F(DotConnectionTest, Tls13OnlyPolicyRefusesATls12Server) {
  auto srv = server("leaf-p256");
  ASSERT_EQ(wolfSSL_CTX_set_max_proto_version(srv.ctx(), TLS1_2_VERSION), WOLFSSL_SUCCESS);
  auto strict = make_client_context({"", TlsFloor::kTls13});
  ASSERT_TRUE(strict.ok()) << strict.error();
  auto up = upstream_with(standard_pins());
  DotConnection c(*strict, up, 1, nullptr);
  auto s = srv.accept();
  MemoryDotServer::pump(c, *s, kNow);
  EXPECT_EQ(c.state(), DotConnection::State::kFailed);
  EXPECT_EQ(c.failure(), FailureReason::kTlsParameters) << to_string(c.failure());
  EXPECT_EQ(s->app_bytes, 0u);
  // The default policy takes the same server over TLS 1.2 with an AEAD suite.
  DotConnection ok(pins_only_, up, 1, nullptr);
  auto s2 = srv.accept();
  MemoryDotServer::pump(ok, *s2, kNow);
  EXPECT_EQ(ok.state(), DotConnection::State::kReady) << to_string(ok.failure());
  EXPECT_EQ(ok.protocol(), "TLSv1.2");
}

TEST_F(DotConnectionTest, TheKeyShareIsX25519AndAP256OnlyServerStillConnects) {
  // X25519 first: a P-256 share would run wolfSSL's fixed-point ECC cache on every server's fresh
  // ephemeral point (~0.8 MB a point, 15 kept per thread; client_context.cc).
  auto srv = server("leaf-p256");
  auto up = upstream_with(standard_pins());
  DotConnection c(pins_only_, up, 1, nullptr);
  auto s = srv.accept();
  MemoryDotServer::pump(c, *s, kNow);
  ASSERT_EQ(c.state(), DotConnection::State::kReady) << to_string(c.failure());
  ASSERT_NE(wolfSSL_get_curve_name(s->tls.ssl()), nullptr);
  EXPECT_STREQ(wolfSSL_get_curve_name(s->tls.ssl()), "X25519");
  // A server that has only P-256 asks for it (HelloRetryRequest) and gets it.
  DotConnection c2(pins_only_, up, 1, nullptr);
  auto s2 = srv.accept();
  int p256[] = {WOLFSSL_ECC_SECP256R1};
  ASSERT_EQ(wolfSSL_set_groups(s2->tls.ssl(), p256, 1), WOLFSSL_SUCCESS);
  MemoryDotServer::pump(c2, *s2, kNow);
  ASSERT_EQ(c2.state(), DotConnection::State::kReady) << to_string(c2.failure());
  EXPECT_STREQ(wolfSSL_get_curve_name(s2->tls.ssl()), "SECP256R1");
  // One with only finite-field groups finds none in common: no handshake.
  DotConnection c3(pins_only_, up, 1, nullptr);
  auto s3 = srv.accept();
  int ffdhe[] = {WOLFSSL_FFDHE_2048};
  ASSERT_EQ(wolfSSL_set_groups(s3->tls.ssl(), ffdhe, 1), WOLFSSL_SUCCESS);
  MemoryDotServer::pump(c3, *s3, kNow);
  EXPECT_EQ(c3.state(), DotConnection::State::kFailed);
  EXPECT_EQ(s3->app_bytes, 0u);
}

TEST_F(DotConnectionTest, OverTls12TheGroupIsX25519AndAnUnofferedCurveIsRefused) {
  auto srv = server("leaf-p256");
  ASSERT_EQ(wolfSSL_CTX_set_max_proto_version(srv.ctx(), TLS1_2_VERSION), WOLFSSL_SUCCESS);
  auto up = upstream_with(standard_pins());
  DotConnection c(pins_only_, up, 1, nullptr);
  auto s = srv.accept();
  MemoryDotServer::pump(c, *s, kNow);
  ASSERT_EQ(c.state(), DotConnection::State::kReady) << to_string(c.failure());
  EXPECT_EQ(c.protocol(), "TLSv1.2");
  EXPECT_STREQ(wolfSSL_get_curve_name(s->tls.ssl()), "X25519");
  // A TLS 1.2 server may name any curve wolfSSL knows in its ServerKeyExchange, offered or not,
  // and wolfSSL's client takes it. No compliant server does that, so the client here offers P-521
  // (outside the policy) to get one negotiated: the check after the handshake refuses it, as it
  // refuses a hostile server's choice, before any query.
  auto wide = make_client_context({"", TlsFloor::kTls12});
  ASSERT_TRUE(wide.ok()) << wide.error();
  int p521[] = {WOLFSSL_ECC_SECP521R1};
  ASSERT_EQ(wolfSSL_CTX_set_groups(wide->get(), p521, 1), WOLFSSL_SUCCESS);
  DotConnection c2(*wide, up, 1, nullptr);
  auto s2 = srv.accept();
  MemoryDotServer::pump(c2, *s2, kNow);
  EXPECT_STREQ(wolfSSL_get_curve_name(s2->tls.ssl()), "SECP521R1");
  EXPECT_EQ(c2.state(), DotConnection::State::kFailed);
  EXPECT_EQ(c2.failure(), FailureReason::kTlsParameters) << to_string(c2.failure());
  EXPECT_EQ(s2->app_bytes, 0u);
}

TEST(ClientPolicy, TheSuiteListIsStrict) {
  for (const char* good : {"TLS13-AES128-GCM-SHA256", "TLS13-CHACHA20-POLY1305-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"})
    EXPECT_TRUE(suite_allowed(good, TlsFloor::kTls12)) << good;
  for (const char* bad : {"ECDHE-ECDSA-NULL-SHA", "NULL-SHA256", "ECDHE-RSA-AES128-SHA256", "AES128-GCM-SHA256",
                          "DHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-DES-CBC3-SHA", "PSK-AES128-GCM-SHA256",
                          "ADH-AES128-SHA", "RC4-SHA"})
    EXPECT_FALSE(suite_allowed(bad, TlsFloor::kTls12)) << bad;
  EXPECT_FALSE(suite_allowed("ECDHE-RSA-AES256-GCM-SHA384", TlsFloor::kTls13));
  EXPECT_EQ(allowed_cipher_list(TlsFloor::kTls12).find("CBC"), std::string_view::npos);
  EXPECT_EQ(allowed_cipher_list(TlsFloor::kTls12).find("NULL"), std::string_view::npos);
  EXPECT_TRUE(version_allowed("TLSv1.2", TlsFloor::kTls12));
  EXPECT_FALSE(version_allowed("TLSv1.2", TlsFloor::kTls13));
  EXPECT_FALSE(version_allowed("TLSv1.1", TlsFloor::kTls12));
  EXPECT_EQ(tls_floor_from_string("1.1"), std::nullopt);
}

TEST(ClientPolicy, TheSuiteOrderChangesThePreferenceNotTheSet) {
  auto sorted_suites = [](std::string list) {
    std::vector<std::string> out;
    for (std::size_t at = 0; at <= list.size();) {
      const std::size_t end = std::min(list.find(':', at), list.size());
      out.push_back(list.substr(at, end - at));
      at = end + 1;
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  for (TlsFloor floor : {TlsFloor::kTls12, TlsFloor::kTls13}) {
    const std::string aes = allowed_cipher_list(floor, SuiteOrder::kAesGcmFirst);
    const std::string chacha = allowed_cipher_list(floor, SuiteOrder::kChaChaFirst);
    EXPECT_EQ(aes.rfind("TLS13-AES128-GCM-SHA256:", 0), 0u) << aes;
    EXPECT_EQ(chacha.rfind("TLS13-CHACHA20-POLY1305-SHA256:", 0), 0u) << chacha;
    EXPECT_EQ(sorted_suites(aes), sorted_suites(chacha));
    for (const auto& s : sorted_suites(aes)) EXPECT_TRUE(suite_allowed(s, floor)) << s;
  }
  // TLS 1.3's suites before any of TLS 1.2's, in either order.
  const std::string chacha12 = allowed_cipher_list(TlsFloor::kTls12, SuiteOrder::kChaChaFirst);
  EXPECT_LT(chacha12.find("TLS13-AES256-GCM-SHA384"), chacha12.find("ECDHE-ECDSA-CHACHA20-POLY1305"));
  EXPECT_EQ(allowed_cipher_list(TlsFloor::kTls13, SuiteOrder::kChaChaFirst).find("ECDHE"), std::string::npos);
  // auto: AES-GCM first exactly when it runs on AES-NI (library and CPU), else ChaCha20.
  EXPECT_EQ(resolve(SuiteOrder::kAuto), aes_gcm_accelerated() ? SuiteOrder::kAesGcmFirst : SuiteOrder::kChaChaFirst);
  EXPECT_EQ(allowed_cipher_list(TlsFloor::kTls12), allowed_cipher_list(TlsFloor::kTls12, resolve(SuiteOrder::kAuto)));
#if defined(WOLFSSL_AESNI)
  EXPECT_TRUE(wolfssl_has_aesni());
  {
    // Independently of resolve(): what /proc/cpuinfo says of this CPU.
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    bool aes = false, pclmul = false;
    while (std::getline(cpuinfo, line))
      if (line.rfind("flags", 0) == 0) {
        aes = line.find(" aes ") != std::string::npos || line.ends_with(" aes");
        pclmul = line.find(" pclmulqdq") != std::string::npos;
        break;
      }
    EXPECT_EQ(aes_gcm_accelerated(), aes && pclmul);
  }
#else
  EXPECT_FALSE(wolfssl_has_aesni());
  EXPECT_FALSE(aes_gcm_accelerated());
#endif
  EXPECT_EQ(suite_order_from_string("chacha20"), SuiteOrder::kChaChaFirst);
  EXPECT_EQ(suite_order_from_string("aes-gcm"), SuiteOrder::kAesGcmFirst);
  EXPECT_EQ(suite_order_from_string("auto"), SuiteOrder::kAuto);
  EXPECT_EQ(suite_order_from_string("aes"), std::nullopt);
  EXPECT_NE(describe_suite_order(SuiteOrder::kChaChaFirst).find("ChaCha20-Poly1305 suites first"), std::string::npos);
}

// A server that honours the client's order (a wolfSSL server told to: wolfSSL_UseClientSuites;
// by default it applies its own) negotiates the suite the order names first.
TEST_F(DotConnectionTest, AServerHonouringTheClientsOrderNegotiatesItsFirstSuite) {
  for (auto [order, want] : {std::pair{SuiteOrder::kAesGcmFirst, "TLS13-AES128-GCM-SHA256"},
                             std::pair{SuiteOrder::kChaChaFirst, "TLS13-CHACHA20-POLY1305-SHA256"}}) {
    auto ctx = make_client_context({"", TlsFloor::kTls12, order});
    ASSERT_TRUE(ctx.ok()) << ctx.error();
    EXPECT_EQ(ctx->suite_order(), order);
    auto srv = server("leaf-p256");
    auto up = upstream_with(standard_pins());
    DotConnection c(*ctx, up, 1, nullptr);
    auto s = srv.accept();
    ASSERT_EQ(wolfSSL_UseClientSuites(s->tls.ssl()), 0);  // 0, not WOLFSSL_SUCCESS, on success
    MemoryDotServer::pump(c, *s, kNow);
    ASSERT_EQ(c.state(), DotConnection::State::kReady) << to_string(c.failure());
    EXPECT_STREQ(wolfSSL_get_cipher_name(c.io().ssl()), want);
    EXPECT_STREQ(wolfSSL_get_cipher_name(s->tls.ssl()), want);
  }
}

TEST_F(DotConnectionTest, AThousandQueriesInFlightAllComeBack) {
  auto srv = server("leaf-p256");
  auto up = upstream_with(standard_pins());
  DotConnection c(pins_only_, up, 1, nullptr);
  auto s = srv.accept();
  MemoryDotServer::pump(c, *s, kNow);
  ASSERT_EQ(c.state(), DotConnection::State::kReady);
  std::vector<std::vector<std::uint8_t>> qs;
  for (std::uint16_t id = 0; id < 1000; ++id) qs.push_back(query(id));
  std::vector<std::span<const std::uint8_t>> batch(qs.begin(), qs.end());
  ASSERT_TRUE(c.send(batch));
  std::vector<bool> seen(1000, false);
  std::size_t answers = 0;
  for (int i = 0; i < 20 && answers < 1000; ++i) {
    MemoryDotServer::pump(c, *s, kNow);
    c.receive([&](std::span<const std::uint8_t> m) {
      const std::uint16_t id = static_cast<std::uint16_t>(m[0] << 8 | m[1]);
      ASSERT_LT(id, 1000);
      EXPECT_FALSE(seen[id]);
      seen[id] = true;
      ++answers;
    });
  }
  EXPECT_EQ(answers, 1000u);
  EXPECT_EQ(s->queries, 1000u);
}

TEST_F(DotConnectionTest, MalformedResponseFailsTheConnection) {
  auto srv = server("leaf-p256");
  auto up = upstream_with(standard_pins());
  DotConnection c(pins_only_, up, 1, nullptr);
  auto s = srv.accept();
  s->malformed_reply = true;
  MemoryDotServer::pump(c, *s, kNow);
  const auto q = query(1);
  const std::span<const std::uint8_t> batch[] = {q};
  ASSERT_TRUE(c.send(batch));
  MemoryDotServer::pump(c, *s, kNow);
  EXPECT_EQ(c.receive([](std::span<const std::uint8_t>) { FAIL() << "no message expected"; }), IoState::kError);
  EXPECT_EQ(c.failure(), FailureReason::kProtocol);
}

}  // namespace
}  // namespace dotpin::tls
