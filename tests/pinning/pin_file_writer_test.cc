// SPDX-License-Identifier: Apache-2.0
#include "pinning/pin_file_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "pinning/pin_file.h"

namespace dotpin {
namespace {

const char* kFile = R"(version = 1
[[upstream]]
name = "a"
address = "192.0.2.1"
auth_name = "dns.example.net"
pin = [ { sha256 = "F84/Wp7qsvJU3gh03RflCM65iFhXD21tdUiOaRU4+v8=", label = "primary" },
        { sha256 = "lytNMGLawR46/UyHnpQZvaVnd1tc2LHVNhNAeZhB4L8=", label = "backup", not_before = 2027-01-01, not_after = 2028-01-01T00:00:00Z } ]

[[upstream]]
name = "b6"
address = "[2001:db8::53]:8853"
mode = "report"
pin = [ { sha256 = "F84/Wp7qsvJU3gh03RflCM65iFhXD21tdUiOaRU4+v8=" } ]
)";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(PinFileWriter, RenderedTableParsesBackToTheSameTable) {
  const auto first = parse_pin_file(kFile, "in.toml");
  ASSERT_TRUE(first.table) << first.errors.front().to_string();
  const std::string text = render_pin_file(*first.table, "written by a test\nsecond line");
  EXPECT_EQ(text.rfind("# written by a test\n# second line\n", 0), 0u) << text;
  const auto again = parse_pin_file(text, "out.toml");
  ASSERT_TRUE(again.table) << again.errors.front().to_string() << "\n" << text;
  ASSERT_EQ(again.table->upstreams.size(), 2u);
  for (std::size_t u = 0; u < 2; ++u) {
    const auto& x = first.table->upstreams[u];
    const auto& y = again.table->upstreams[u];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.address, y.address);
    EXPECT_EQ(x.auth_name, y.auth_name);
    EXPECT_EQ(x.mode, y.mode);
    ASSERT_EQ(x.pins.size(), y.pins.size());
    for (std::size_t p = 0; p < x.pins.size(); ++p) {
      EXPECT_EQ(x.pins[p].digest, y.pins[p].digest);
      EXPECT_EQ(x.pins[p].label, y.pins[p].label);
      EXPECT_EQ(x.pins[p].not_before, y.pins[p].not_before);
      EXPECT_EQ(x.pins[p].not_after, y.pins[p].not_after);
    }
  }
  // Canonical: rendering the re-parsed table gives the same text.
  EXPECT_EQ(render_pin_file(*again.table, "written by a test\nsecond line"), text);
}

TEST(PinFileWriter, ReplacesAtomicallyKeepingModeAndThePreviousVersion) {
  const auto dir = std::filesystem::temp_directory_path() / ("dotpin-writer-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "pins.toml").string();
  { std::ofstream(path) << "old\n"; }
  ::chmod(path.c_str(), 0640);
  ASSERT_TRUE(replace_file_atomically(path, "new\n"));
  EXPECT_EQ(read(path), "new\n");
  EXPECT_EQ(read(path + ".prev"), "old\n");
  for (const auto& e : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find("pins.toml.tmp"), std::string::npos) << e.path();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  // A directory that does not exist: an error, and nothing else happens.
  const auto bad = replace_file_atomically((dir / "missing" / "pins.toml").string(), "x");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("cannot create"), std::string::npos) << bad.error();
  std::filesystem::remove_all(dir);
}

TEST(PinFileWriter, APlantedTemporaryFileOrSymlinkIsNeverFollowed) {
  // Someone who can write to the pin file's directory plants the old fixed temporary name as a
  // symlink to a file they want overwritten: the writer must not follow it.
  const auto dir = std::filesystem::temp_directory_path() / ("dotpin-writer-sym-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "pins.toml").string();
  const std::string victim = (dir / "victim").string();
  { std::ofstream(victim) << "precious\n"; }
  { std::ofstream(path) << "old\n"; }
  std::filesystem::create_symlink(victim, path + ".tmp");
  ASSERT_TRUE(replace_file_atomically(path, "new\n"));
  EXPECT_EQ(read(path), "new\n");
  EXPECT_EQ(read(victim), "precious\n");
  EXPECT_TRUE(std::filesystem::is_symlink(path + ".tmp"));  // left alone
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dotpin
