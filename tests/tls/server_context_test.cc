// SPDX-License-Identifier: Apache-2.0
// The DoT server's context and its session-ticket keys: tickets open under the current and the
// previous key only, forged or altered tickets never open, the chain and key must match, and a
// real wolfSSL client handshakes, resumes by ticket, and is refused below the floor — all over
// memory buffers.
#include "tls/server_context.h"

#include <gtest/gtest.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <array>
#include <iostream>
#include <cstring>
#include <vector>

#include "tests/test_pki.h"

namespace dotpin::tls {
namespace {

using test::pki_dir;
using Clock = TicketKeys::Clock;
using namespace std::chrono_literals;

struct Sealed {
  std::array<unsigned char, 16> name{};
  std::array<unsigned char, 16> iv{};
  std::array<unsigned char, 32> mac{};
  std::vector<unsigned char> ticket;
};

Sealed seal(TicketKeys& k, Clock::time_point at, std::string_view state = "session state of a client") {
  Sealed s;
  s.ticket.assign(state.begin(), state.end());
  int out = 0;
  EXPECT_EQ(k.seal(at, s.name.data(), s.iv.data(), s.mac.data(), s.ticket.data(), static_cast<int>(s.ticket.size()), &out),
            WOLFSSL_TICKET_RET_OK);
  EXPECT_EQ(out, static_cast<int>(s.ticket.size()));
  return s;
}

int open(TicketKeys& k, Clock::time_point at, Sealed s, std::string* plain = nullptr) {
  int out = 0;
  const int r = k.open(at, s.name.data(), s.iv.data(), s.mac.data(), s.ticket.data(), static_cast<int>(s.ticket.size()), &out);
  if (plain && r >= 0) plain->assign(s.ticket.begin(), s.ticket.begin() + out);
  return r;
}

TEST(TicketKeys, ATicketOpensUnderTheKeyThatSealedIt) {
  TicketKeys k(60s);
  const auto t0 = Clock::now();
  const Sealed s = seal(k, t0);
  EXPECT_NE(std::string(s.ticket.begin(), s.ticket.end()), "session state of a client") << "sealed, not copied";
  std::string plain;
  EXPECT_EQ(open(k, t0 + 59s, s, &plain), WOLFSSL_TICKET_RET_OK);
  EXPECT_EQ(plain, "session state of a client");
  EXPECT_EQ(k.keys_made(), 1u);
}

TEST(TicketKeys, AnAlteredOrForgedTicketNeverOpens) {
  TicketKeys k(60s);
  const auto t0 = Clock::now();
  const Sealed s = seal(k, t0);
  for (std::size_t i = 0; i < s.ticket.size(); ++i) {
    Sealed bad = s;
    bad.ticket[i] ^= 0x01;
    EXPECT_EQ(open(k, t0, bad), WOLFSSL_TICKET_RET_REJECT) << "ticket byte " << i;
  }
  for (std::size_t i = 0; i < 16; ++i) {
    Sealed bad = s;
    bad.iv[i] ^= 0x80;
    EXPECT_EQ(open(k, t0, bad), WOLFSSL_TICKET_RET_REJECT) << "nonce byte " << i;
    bad = s;
    bad.name[i] ^= 0x80;
    EXPECT_EQ(open(k, t0, bad), WOLFSSL_TICKET_RET_REJECT) << "key name byte " << i;
  }
  for (std::size_t i = 0; i < 32; ++i) {
    Sealed bad = s;
    bad.mac[i] ^= 0x01;
    EXPECT_EQ(open(k, t0, bad), WOLFSSL_TICKET_RET_REJECT) << "tag byte " << i;
  }
  // Another process's keys (another TicketKeys) open nothing of ours.
  TicketKeys other(60s);
  EXPECT_EQ(open(other, t0, s), WOLFSSL_TICKET_RET_REJECT);
}

TEST(TicketKeys, RotationKeepsThePreviousKeyForOneIntervalAndAsksForAFreshTicket) {
  TicketKeys k(60s);
  const auto t0 = Clock::now();
  const Sealed old = seal(k, t0);
  const Sealed renewed = seal(k, t0 + 61s);  // rotates: a second key
  EXPECT_EQ(k.keys_made(), 2u);
  EXPECT_NE(old.name, renewed.name);
  EXPECT_EQ(open(k, t0 + 62s, old), WOLFSSL_TICKET_RET_CREATE) << "previous key: resume, reissue";
  EXPECT_EQ(open(k, t0 + 62s, renewed), WOLFSSL_TICKET_RET_OK);
  // A third key: the first no longer opens anything.
  EXPECT_EQ(open(k, t0 + 122s, old), WOLFSSL_TICKET_RET_REJECT);
  EXPECT_EQ(k.keys_made(), 3u);
  EXPECT_EQ(open(k, t0 + 123s, renewed), WOLFSSL_TICKET_RET_CREATE);
}

TEST(TicketKeys, AfterTwoIdleIntervalsNoEarlierTicketOpens) {
  TicketKeys k(60s);
  const auto t0 = Clock::now();
  const Sealed s = seal(k, t0);
  // Nothing happened for 2.5 intervals: the key is older than any ticket may live.
  EXPECT_EQ(open(k, t0 + 150s, s), WOLFSSL_TICKET_RET_REJECT);
}

TEST(TicketKeys, AKeyOpensNothingTwoIntervalsAfterItWasMadeHoweverLateItRotated) {
  TicketKeys k(60s);
  const auto t0 = Clock::now();
  const Sealed s = seal(k, t0);
  // Nothing for 1.9 intervals, then a new ticket: the first key becomes the previous one only now.
  const Sealed later = seal(k, t0 + 114s);
  EXPECT_EQ(k.keys_made(), 2u);
  EXPECT_EQ(open(k, t0 + 118s, s), WOLFSSL_TICKET_RET_CREATE);
  // Its two intervals end at t0 + 120 s, although the rotation ran late: it opens nothing after.
  EXPECT_EQ(open(k, t0 + 121s, s), WOLFSSL_TICKET_RET_REJECT);
  EXPECT_EQ(open(k, t0 + 121s, later), WOLFSSL_TICKET_RET_OK);
}

TEST(TicketKeys, ZeroRotationIsRefused) { EXPECT_THROW(TicketKeys(0s), std::invalid_argument); }

ServerPolicy policy_for(const std::string& chain, const std::string& key) {
  ServerPolicy p;
  p.certificate_file = pki_dir() + "/" + chain;
  p.key_file = pki_dir() + "/" + key;
  return p;
}

TEST(ServerContext, LoadsAMatchingChainAndKey) {
  DOTPIN_REQUIRE_PKI();
  auto c = make_server_context(policy_for("leaf-p256.chain.pem", "leaf-p256.key"));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_NE(c->get(), nullptr);
}

TEST(ServerContext, RefusesAKeyOfAnotherCertificateAndMissingFiles) {
  DOTPIN_REQUIRE_PKI();
  auto mismatch = make_server_context(policy_for("leaf-p256.chain.pem", "impostor.key"));
  ASSERT_FALSE(mismatch.ok());
  // Either wolfSSL's key check or the self-test handshake (which one depends on the wolfSSL build).
  EXPECT_NE(mismatch.error().find("impostor.key: does not belong to the certificate in"), std::string::npos)
      << mismatch.error();
  auto missing = make_server_context(policy_for("no-such.chain.pem", "leaf-p256.key"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("no-such.chain.pem: cannot be read"), std::string::npos) << missing.error();
  auto not_pem = make_server_context(policy_for("leaf-p256.key", "leaf-p256.key"));
  ASSERT_FALSE(not_pem.ok());
  EXPECT_NE(not_pem.error().find("leaf-p256.key"), std::string::npos) << not_pem.error();
  std::cout << "refused: " << not_pem.error() << "\n" << "refused: " << mismatch.error() << "\n";
}

// Moves records between a client and a server session until neither makes progress.
void shuttle(MemoryTls& client, MemoryTls& server, int& client_ret, int& server_ret) {
  for (int round = 0; round < 50; ++round) {
    client_ret = wolfSSL_connect(client.ssl());
    server_ret = wolfSSL_accept(server.ssl());
    const bool moved = !client.outbound().empty() || !server.outbound().empty();
    server.inbound().append(client.outbound().data());
    client.outbound().clear();
    client.inbound().append(server.outbound().data());
    server.outbound().clear();
    if (!moved && client_ret == WOLFSSL_SUCCESS && server_ret == WOLFSSL_SUCCESS) return;
    if (!moved && round > 2) return;
  }
}

// The client reads whatever the server sent after the handshake (TLS 1.3 session tickets).
void take_tickets(MemoryTls& client) {
  std::array<unsigned char, 64> buf{};
  [[maybe_unused]] const int n = wolfSSL_read(client.ssl(), buf.data(), static_cast<int>(buf.size()));
}

class ServerHandshake : public ::testing::Test {
 protected:
  void SetUp() override {
    DOTPIN_REQUIRE_PKI();
    auto s = make_server_context(policy_for("leaf-p256.chain.pem", "leaf-p256.key"));
    ASSERT_TRUE(s.ok()) << s.error();
    server_ = std::move(*s);
    auto c = make_client_ctx("");
    ASSERT_TRUE(c.ok()) << c.error();
    client_ = std::move(*c);
  }
  ServerContext server_;
  ClientContext client_;
};

TEST_F(ServerHandshake, ANewClientHandshakesSelectsDotAndResumesByTicket) {
  WOLFSSL_SESSION* session = nullptr;
  {
    MemoryTls c(client_.get()), s(server_.get());
    ASSERT_TRUE(offer_dot_alpn(c.ssl()));
    ASSERT_TRUE(prepare_server_session(s.ssl()));
    int cr = 0, sr = 0;
    shuttle(c, s, cr, sr);
    ASSERT_EQ(cr, WOLFSSL_SUCCESS);
    ASSERT_EQ(sr, WOLFSSL_SUCCESS);
    EXPECT_EQ(server_parameters_problem(s.ssl(), TlsFloor::kTls12), "");
    EXPECT_STREQ(wolfSSL_get_version(s.ssl()), "TLSv1.3");
    char* proto = nullptr;
    unsigned short len = 0;
    ASSERT_EQ(wolfSSL_ALPN_GetProtocol(s.ssl(), &proto, &len), WOLFSSL_SUCCESS);
    EXPECT_EQ(std::string_view(proto, len), "dot");
    EXPECT_FALSE(wolfSSL_session_reused(s.ssl()));
    take_tickets(c);
    session = wolfSSL_get1_session(c.ssl());
    ASSERT_NE(session, nullptr);
  }
  EXPECT_EQ(server_.tickets().keys_made(), 1u);
  MemoryTls c(client_.get()), s(server_.get());
  ASSERT_EQ(wolfSSL_set_session(c.ssl(), session), WOLFSSL_SUCCESS);
  wolfSSL_SESSION_free(session);
  int cr = 0, sr = 0;
  shuttle(c, s, cr, sr);
  ASSERT_EQ(sr, WOLFSSL_SUCCESS);
  EXPECT_TRUE(wolfSSL_session_reused(s.ssl())) << "the ticket resumes the session";
}

TEST_F(ServerHandshake, ATls12ClientIsRefusedByATls13Floor) {
  ServerPolicy p = policy_for("leaf-p256.chain.pem", "leaf-p256.key");
  p.min_version = TlsFloor::kTls13;
  auto strict = make_server_context(p);
  ASSERT_TRUE(strict.ok()) << strict.error();
  CtxPtr old(wolfSSL_CTX_new(wolfTLSv1_2_client_method()));
  ASSERT_TRUE(old);
  wolfSSL_CTX_set_verify(old.get(), WOLFSSL_VERIFY_NONE, nullptr);
  MemoryTls c(old.get()), s(strict->get());
  int cr = 0, sr = 0;
  shuttle(c, s, cr, sr);
  EXPECT_NE(sr, WOLFSSL_SUCCESS);
  EXPECT_EQ(s.state_after(sr), IoState::kError);
}

TEST_F(ServerHandshake, AClientOfferingOnlyCbcSuitesIsRefused) {
  CtxPtr weak(wolfSSL_CTX_new(wolfTLSv1_2_client_method()));
  ASSERT_TRUE(weak);
  wolfSSL_CTX_set_verify(weak.get(), WOLFSSL_VERIFY_NONE, nullptr);
  ASSERT_EQ(wolfSSL_CTX_set_cipher_list(weak.get(), "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"), WOLFSSL_SUCCESS);
  MemoryTls c(weak.get()), s(server_.get());
  int cr = 0, sr = 0;
  shuttle(c, s, cr, sr);
  EXPECT_NE(sr, WOLFSSL_SUCCESS);
  EXPECT_EQ(s.state_after(sr), IoState::kError);
}

// The listener applies its own order (wolfSSL's server does): whatever a client names first, it
// gets the AEAD that is cheaper here, as the client side's suite_order = "auto" resolves it.
TEST_F(ServerHandshake, TheListenerPicksTheCheaperAeadWhateverTheClientPrefers) {
  const char* want = resolve(SuiteOrder::kAuto) == SuiteOrder::kAesGcmFirst ? "TLS13-AES128-GCM-SHA256"
                                                                            : "TLS13-CHACHA20-POLY1305-SHA256";
  for (SuiteOrder client_order : {SuiteOrder::kAesGcmFirst, SuiteOrder::kChaChaFirst}) {
    auto client = make_client_context({"", TlsFloor::kTls12, client_order});
    ASSERT_TRUE(client.ok()) << client.error();
    MemoryTls c(client->get()), s(server_.get());
    ASSERT_TRUE(prepare_server_session(s.ssl()));
    int cr = 0, sr = 0;
    shuttle(c, s, cr, sr);
    ASSERT_EQ(sr, WOLFSSL_SUCCESS);
    EXPECT_STREQ(wolfSSL_get_cipher_name(s.ssl()), want) << to_string(client_order);
  }
}

}  // namespace
}  // namespace dotpin::tls
