// SPDX-License-Identifier: Apache-2.0
// UpstreamLink lifetimes over io_uring: a link destroyed while its connect is still pending must
// not leave a request in flight behind it (its completion would touch freed memory). On Linux the
// shutdown() in close() already ends a connect in SYN_SENT; the destructor also cancels it.
#include "tls/upstream_link.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/test_pki.h"

namespace dotpin::tls {
namespace {

using namespace std::chrono_literals;
using Clock = UpstreamLink::Clock;

/// A loopback listener that never accepts, with its accept queue already full: a further connect
/// gets no SYN-ACK and stays pending.
class BlackholeListener {
 public:
  BlackholeListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 0), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    // Fill the accept queue.
    for (int i = 0; i < 2; ++i) {
      fillers_[i] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      ::connect(fillers_[i], reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    ::usleep(50000);
  }
  ~BlackholeListener() {
    for (const int f : fillers_) ::close(f);
    ::close(fd_);
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  int fillers_[2] = {-1, -1};
  std::uint16_t port_ = 0;
};

/// A link's world: a black-holed port, a pins-only context, one upstream, a reactor.
class UpstreamLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DOTPIN_REQUIRE_PKI();
    auto c = make_client_ctx("");
    ASSERT_TRUE(c.ok());
    ctx_ = std::move(*c);
    up_.name = "hole";
    up_.address = *parse_endpoint("127.0.0.1:" + std::to_string(hole_.port()), 853, false);
    up_.pins.resize(1);
  }
  BlackholeListener hole_;
  ClientContext ctx_;
  UpstreamPins up_;
  UringReactor reactor_{16};
};

TEST_F(UpstreamLinkTest, DestroyedWhileConnectingLeavesNothingInFlight) {
  const auto start = Clock::now();
  {
    UpstreamLink link(reactor_, ctx_, up_, 1, nullptr);
    ASSERT_TRUE(link.start(Clock::now() + 10s));
    for (int i = 0; i < 20; ++i) reactor_.poll(5ms);
    EXPECT_EQ(link.state(), UpstreamLink::State::kConnecting);
    EXPECT_TRUE(link.busy());
  }  // destroyed with the connect pending
  EXPECT_EQ(reactor_.in_flight(), 0u);
  EXPECT_LT(Clock::now() - start, 5s);  // bounded, not a performance assertion
}

TEST_F(UpstreamLinkTest, HandshakeDeadlineFailsAPendingConnect) {
  UpstreamLink link(reactor_, ctx_, up_, 1, nullptr);
  ASSERT_TRUE(link.start(Clock::now() + 200ms));
  const auto end = Clock::now() + 3s;
  while (link.state() != UpstreamLink::State::kFailed && Clock::now() < end) {
    reactor_.poll(10ms);
    link.tick(Clock::now());
  }
  EXPECT_EQ(link.state(), UpstreamLink::State::kFailed);
  EXPECT_EQ(link.failure(), FailureReason::kHandshakeTimeout);
}

}  // namespace
}  // namespace dotpin::tls
