// SPDX-License-Identifier: Apache-2.0
// The commands that change the running appliance, against a fake data plane: what is persisted,
// what is published (and numbered by the control plane's pin store), which typed command reaches
// the lcores, and that a refused change leaves everything as it was. No EAL, no root.
#include "control/daemon_admin.h"

#include "control/command.h"
#include "control/daemon_commands.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fake_data_plane.h"
#include "tests/test_pki.h"

namespace dotpin::ctl {
namespace {

constexpr const char* kPrimary = "F84/Wp7qsvJU3gh03RflCM65iFhXD21tdUiOaRU4+v8=";
constexpr const char* kBackup = "lytNMGLawR46/UyHnpQZvaVnd1tc2LHVNhNAeZhB4L8=";
constexpr const char* kThird = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

std::string pin_file(const char* extra_pin = nullptr) {
  std::string s = std::string("[[upstream]]\nname = \"a\"\naddress = \"192.0.2.1\"\npin = [ { sha256 = \"") + kPrimary +
                  "\", label = \"primary\" }, { sha256 = \"" + kBackup + "\", label = \"backup\" }";
  if (extra_pin) s += std::string(", { sha256 = \"") + extra_pin + "\" }";
  return s + " ]\n";
}

class DaemonAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("dotpin-admin-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "pins.toml").string();
    write(pin_file());
    FilePinSource source(path_);
    std::vector<Diagnostic> errors;
    auto table = source.load(errors);
    ASSERT_TRUE(table);
    publisher_ = std::make_unique<PinPublisher>(store_, PinPublisher::Options{path_, false, (dir_ / "tofu.json").string()});
    ASSERT_TRUE(publisher_->start(std::move(*table), {}, now_utc()));
    dp_ = std::make_unique<test::FakeDataPlane>(store_.current());
    dp_->lcores = {test::lcore_view(1, {"a"}, {tls::UpstreamStats{}}), test::lcore_view(2, {"a"}, {tls::UpstreamStats{}})};
    publisher_->attach(*dp_);
    admin_ = std::make_unique<DaemonAdmin>(*dp_, *publisher_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& text) const { std::ofstream(path_, std::ios::trunc) << text; }

  std::filesystem::path dir_;
  std::string path_;
  PinStore store_;
  std::unique_ptr<PinPublisher> publisher_;
  std::unique_ptr<test::FakeDataPlane> dp_;
  std::unique_ptr<DaemonAdmin> admin_;
};

TEST_F(DaemonAdminTest, ReloadNumbersTheNextGenerationAndFeedsIt) {
  write(pin_file(kThird));
  const auto j = admin_->pins_reload(Request{"pins reload", {}, {}});
  ASSERT_TRUE(j) << j.error();
  EXPECT_EQ((*j)["generation"], 2);
  EXPECT_EQ((*j)["adopted_by_all_lcores"], true);
  ASSERT_EQ(dp_->published.size(), 1u);
  EXPECT_EQ(dp_->published[0], store_.current());  // the store numbered it; the data plane only got it
  EXPECT_EQ(dp_->published[0]->table.upstreams[0].pins.size(), 3u);
}

TEST_F(DaemonAdminTest, ABadFileIsRejectedWithItsLineAndChangesNothing) {
  write(pin_file() + "[[upstream]]\nname = \"b\"\naddress = \"not an address\"\n");
  const auto j = admin_->pins_reload(Request{"pins reload", {}, {}});
  ASSERT_FALSE(j);
  EXPECT_NE(j.error().find(path_ + ":"), std::string::npos) << j.error();
  EXPECT_NE(j.error().find("the pins in force are unchanged"), std::string::npos) << j.error();
  EXPECT_TRUE(dp_->published.empty());
  EXPECT_EQ(store_.current()->generation, 1u);
}

TEST_F(DaemonAdminTest, AddPersistsFirstThenPublishes) {
  const auto j = admin_->pins_add(Request{"pins add", {"a", kThird}, {{"label", {"next"}}}});
  ASSERT_TRUE(j) << j.error();
  EXPECT_NE(test::read_text(path_).find(kThird), std::string::npos);
  ASSERT_EQ(dp_->published.size(), 1u);
  EXPECT_EQ(dp_->published[0]->generation, 2u);
}

TEST_F(DaemonAdminTest, ALateLcoreIsAWarningNotAFailedChange) {
  dp_->late_lcores = {2};
  write(pin_file(kThird));
  const auto j = admin_->pins_reload(Request{"pins reload", {}, {}});
  ASSERT_TRUE(j) << j.error();
  EXPECT_EQ((*j)["adopted_by_all_lcores"], false);
  EXPECT_TRUE(j->contains("warning"));
}

TEST_F(DaemonAdminTest, AReloadThatLeavesAnUpstreamWithNoValidPinIsRefusedUnlessForced) {
  // The hostile review's case: a file whose only upstream has no pin valid now (its one pin
  // counts from next year) was published and written, and every query then failed SERVFAIL.
  const std::string before = test::read_text(path_);
  const std::string bad = std::string("[[upstream]]\nname = \"a\"\naddress = \"192.0.2.1\"\npin = [ { sha256 = \"") +
                          kThird + "\", label = \"next\", not_before = 2099-01-01 } ]\n";
  const std::string other = (dir_ / "next.toml").string();
  std::ofstream(other) << bad;
  const auto j = admin_->pins_reload(Request{"pins reload", {other}, {}});
  ASSERT_FALSE(j);
  EXPECT_NE(j.error().find("upstream 'a' would have no pin valid now (its pins: 'next' counts from 2099-01-01"),
            std::string::npos)
      << j.error();
  EXPECT_NE(j.error().find("no upstream of the pool"), std::string::npos) << j.error();
  EXPECT_NE(j.error().find("the pins in force are unchanged"), std::string::npos) << j.error();
  EXPECT_TRUE(dp_->published.empty());
  EXPECT_EQ(store_.current()->generation, 1u);
  EXPECT_EQ(test::read_text(path_), before);  // nothing written either
  // The configured file itself, edited the same way: refused the same.
  write(bad);
  EXPECT_FALSE(admin_->pins_reload(Request{"pins reload", {}, {}}));
  EXPECT_TRUE(dp_->published.empty());

  const auto forced = admin_->pins_reload(Request{"pins reload", {}, {{"force", {""}}}});
  ASSERT_TRUE(forced) << forced.error();
  EXPECT_EQ((*forced)["forced"].size(), 2u);
  ASSERT_EQ(dp_->published.size(), 1u);
}

TEST_F(DaemonAdminTest, RemovingTheLastValidPinIsRefusedUnlessForced) {
  write(std::string("[[upstream]]\nname = \"a\"\naddress = \"192.0.2.1\"\npin = [ { sha256 = \"") + kPrimary +
        "\", label = \"primary\" }, { sha256 = \"" + kBackup + "\", label = \"backup\", not_after = 2020-01-01 } ]\n");
  ASSERT_TRUE(admin_->pins_reload(Request{"pins reload", {}, {}}));
  const auto refused = admin_->pins_remove(Request{"pins remove", {"a", "primary"}, {}});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("stopped counting at 2020-01-01"), std::string::npos) << refused.error();
  EXPECT_EQ(store_.current()->generation, 2u);
  ASSERT_TRUE(admin_->pins_remove(Request{"pins remove", {"a", "primary"}, {{"force", {""}}}}));
  EXPECT_EQ(store_.current()->generation, 3u);
}

TEST_F(DaemonAdminTest, CacheFlushSendsTheNameInLowerCaseWireFormat) {
  dp_->result_per_lcore = 3;
  const auto j = admin_->cache_flush(Request{"cache flush", {"WWW.Example.COM"}, {}});
  ASSERT_TRUE(j) << j.error();
  EXPECT_EQ((*j)["removed"], 6);
  ASSERT_EQ(dp_->commands.size(), 1u);
  const auto* flush = std::get_if<dataplane::FlushCache>(&dp_->commands[0]);
  ASSERT_NE(flush, nullptr);
  const std::string wire(flush->name.begin(), flush->name.end());
  EXPECT_EQ(wire, std::string("\3www\7example\3com\0", 17));
  ASSERT_TRUE(admin_->cache_flush(Request{"cache flush", {}, {}}));
  EXPECT_TRUE(std::get<dataplane::FlushCache>(dp_->commands[1]).name.empty());  // every name
}

TEST_F(DaemonAdminTest, ALcoreThatDoesNotAnswerIsNamed) {
  dp_->late_lcores = {2};
  const auto j = admin_->cache_flush(Request{"cache flush", {}, {}});
  ASSERT_FALSE(j);
  EXPECT_NE(j.error().find("lcore(s) 2 did not answer in time"), std::string::npos) << j.error();
}

TEST_F(DaemonAdminTest, DrainNamesAKnownUpstreamOnly) {
  const auto unknown = admin_->upstream_set(Request{"upstream drain", {"zz"}, {}}, true);
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(dp_->commands.empty());  // nothing sent for a name that is not in the pin table
  const auto j = admin_->upstream_set(Request{"upstream drain", {"a"}, {}}, true);
  ASSERT_TRUE(j) << j.error();
  EXPECT_EQ((*j)["state"], "drained");
  const auto& cmd = std::get<dataplane::SetUpstreamDrained>(dp_->commands.at(0));
  EXPECT_EQ(cmd.upstream, "a");
  EXPECT_TRUE(cmd.drained);
}

}  // namespace
}  // namespace dotpin::ctl

namespace dotpin::ctl {
namespace {

// dotpinctl's table and dotpind's registrations are one list: every command that takes --socket has
// a handler, and no handler serves a command the table does not describe.
TEST_F(DaemonAdminTest, TheDaemonServesExactlyTheTablesSocketCommands) {
  ControlServer::Options o;
  o.path = (dir_ / "ctl.sock").string();
  auto server = ControlServer::open(o);
  ASSERT_TRUE(server) << server.error();
  register_daemon_commands(**server, *dp_, path_);
  admin_->register_commands(**server);
  ExpiryMonitor expiry({}, [this] { return store_.current(); }, [](std::string_view) {});
  register_expiry_command(**server, expiry);
  std::vector<std::string> table;
  for (const Command& c : command_table())
    if (served_by_daemon(c)) table.emplace_back(c.name);
  std::ranges::sort(table);
  EXPECT_EQ((*server)->commands(), table);
}

// Any client can write to the socket, not only dotpinctl: the daemon refuses what the table refuses,
// with the table's usage line, before a handler runs.
TEST_F(DaemonAdminTest, RequestsAreCheckedAgainstTheTableBeforeTheHandlerRuns) {
  ControlServer::Options o;
  o.path = (dir_ / "ctl.sock").string();
  auto opened = ControlServer::open(o);
  ASSERT_TRUE(opened) << opened.error();
  auto& server = **opened;
  admin_->register_commands(server);
  server.start();
  auto ask = [&](Request r) { return call(o.path, r); };
  auto few = ask({"pins add", {"a"}, {}});
  ASSERT_FALSE(few);
  EXPECT_NE(few.error().find("usage: pins add [--view NAME] [--label LABEL] [--not-before DATE] [--not-after DATE] UPSTREAM PIN"),
            std::string::npos)
      << few.error();
  auto unknown = ask({"cache flush", {}, {{"everything", {""}}}});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("unknown option '--everything'"), std::string::npos) << unknown.error();
  auto valueless = ask({"pins add", {"a", kThird}, {{"label", {""}}}});
  ASSERT_FALSE(valueless);
  EXPECT_NE(valueless.error().find("--label needs a value"), std::string::npos) << valueless.error();
  auto flag = ask({"pins remove", {"a", "primary"}, {{"force", {"yes"}}}});
  ASSERT_FALSE(flag);
  EXPECT_NE(flag.error().find("--force takes no value"), std::string::npos) << flag.error();
  EXPECT_TRUE(dp_->commands.empty());
  EXPECT_TRUE(dp_->published.empty());  // no handler ran
  server.stop();
}

}  // namespace
}  // namespace dotpin::ctl
