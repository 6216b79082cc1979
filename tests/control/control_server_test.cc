// SPDX-License-Identifier: Apache-2.0
// The control socket server with test handlers: permissions, dispatch, every error path, and that
// no client can stall it.
#include "control/control_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace dotpin::ctl {
namespace {

using namespace std::chrono_literals;

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("dotpin-ctl-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "run" / "dotpind.sock").string();  // the directory does not exist yet
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void start(ControlServer::Options o = {}) {
    o.path = path_;
    auto s = ControlServer::open(o);
    ASSERT_TRUE(s) << s.error();
    server_ = std::move(*s);
    server_->handle("echo", [](const Request& r) -> Result<nlohmann::json> { return nlohmann::json{{"args", r.args}}; });
    server_->handle("fail", [](const Request&) -> Result<nlohmann::json> { return fail("it failed"); });
    server_->handle("throw", [](const Request&) -> Result<nlohmann::json> { throw std::runtime_error("boom"); });
    server_->start();
  }
  int raw_connect() {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }
  static std::string read_line(int fd, std::chrono::milliseconds limit = 3s) {
    std::string s;
    char c;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      if (::read(fd, &c, 1) != 1) break;
      if (c == '\n') return s;
      s += c;
    }
    return s;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ControlServerTest, SocketIsOwnerOnly) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_mode & S_IWOTH, 0u);
}

TEST_F(ControlServerTest, DispatchAndErrors) {
  start();
  Request r;
  r.command = "echo";
  r.args = {"x"};
  auto reply = call(path_, r);
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ((*reply)["args"][0], "x");
  r.command = "fail";
  EXPECT_EQ(call(path_, r).error(), "it failed");
  r.command = "throw";
  EXPECT_NE(call(path_, r).error().find("internal error: boom"), std::string::npos);
  r.command = "nope";
  EXPECT_NE(call(path_, r).error().find("unknown command 'nope' (dotpind knows: echo, fail, throw)"), std::string::npos);
}

TEST_F(ControlServerTest, MalformedAndOversizedRequestsGetAnErrorNotAHang) {
  start();
  const int fd = raw_connect();
  ASSERT_EQ(::write(fd, "this is not json\n", 17), 17);
  EXPECT_NE(read_line(fd).find("not JSON"), std::string::npos);
  ASSERT_EQ(::write(fd, "{\"command\":\"echo\"}\n", 19), 19);  // the connection still works
  EXPECT_NE(read_line(fd).find("\"ok\":true"), std::string::npos);
  const std::string big(kMaxLine + 100, 'x');  // no newline at all
  std::size_t sent = 0;
  while (sent < big.size()) {
    const ssize_t n = ::send(fd, big.data() + sent, big.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  EXPECT_NE(read_line(fd).find("longer than"), std::string::npos);
  char c;
  EXPECT_EQ(::read(fd, &c, 1), 0);  // and it hangs up
  ::close(fd);
}

TEST_F(ControlServerTest, ClientsThatDoNotReadCannotStallOthers) {
  ControlServer::Options o;
  o.max_output = 64 * 1024;
  start(o);
  // A client that sends many requests and never reads the replies.
  const int greedy = raw_connect();
  const std::string req = "{\"command\":\"echo\",\"args\":[\"" + std::string(1000, 'a') + "\"]}\n";
  for (int i = 0; i < 2000; ++i)
    if (::send(greedy, req.data(), req.size(), MSG_NOSIGNAL | MSG_DONTWAIT) <= 0) break;
  // A client that says nothing.
  const int silent = raw_connect();
  // Others are still served, promptly.
  Request r;
  r.command = "echo";
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(call(path_, r, 2s)) << i;
  ::close(greedy);
  ::close(silent);
}

TEST_F(ControlServerTest, IdleClientsAreClosed) {
  ControlServer::Options o;
  o.idle_timeout = 200ms;
  start(o);
  const int fd = raw_connect();
  char c;
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 3000), 1);
  EXPECT_EQ(::read(fd, &c, 1), 0);
  ::close(fd);
}

TEST_F(ControlServerTest, StaleSocketIsReplacedLiveOneIsNot) {
  start();
  ControlServer::Options o;
  o.path = path_;
  auto second = ControlServer::open(o);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().find("another daemon"), std::string::npos);
  // Simulate a crash: the file stays, nobody listens.
  server_.reset();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::close(fd);
  ASSERT_TRUE(std::filesystem::exists(path_));
  auto third = ControlServer::open(o);
  EXPECT_TRUE(third) << third.error();
}

TEST_F(ControlServerTest, NoDaemonIsAClearError) {
  Request r;
  r.command = "status";
  const auto reply = call(path_, r, 1s);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().find("is dotpind running"), std::string::npos);
}

TEST_F(ControlServerTest, StopRemovesTheSocket) {
  start();
  server_->stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

}  // namespace
}  // namespace dotpin::ctl
