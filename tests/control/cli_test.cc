// SPDX-License-Identifier: Apache-2.0
// dotpinctl driven in-process: dispatch, usage errors, exit codes and JSON shape.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "common/encoding.h"
#include "control/command.h"
#include "tests/test_pki.h"

namespace dotpin::ctl {
namespace {

struct CliRun {
  int code;
  std::string out, err;
};

CliRun run(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = run_cli(args, out, err);
  return {code, out.str(), err.str()};
}

std::string temp_file(const std::string& name, const std::string& text) {
  const std::string path = "/tmp/dotpin-cli-test-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path) << text;
  return path;
}

std::string pin_of(std::uint8_t fill) { return base64_encode(std::vector<std::uint8_t>(32, fill)); }

std::string upstream_with_pins(int n) {
  std::string s = "[[upstream]]\nname = \"u\"\naddress = \"192.0.2.1\"\n";
  for (int i = 0; i < n; ++i) s += "[[upstream.pin]]\nsha256 = \"" + pin_of(static_cast<std::uint8_t>(i + 1)) + "\"\n";
  return s;
}

TEST(Cli, HelpListsEveryCommand) {
  const CliRun r = run({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  for (const Command& c : command_table()) EXPECT_NE(r.out.find(std::string(c.name)), std::string::npos) << c.name;
}

TEST(Cli, EveryCommandHasHelp) {
  for (const Command& c : command_table()) {
    std::vector<std::string> args;
    std::istringstream words{std::string(c.name)};
    for (std::string w; words >> w;) args.push_back(w);
    args.push_back("--help");
    const CliRun r = run(args);
    EXPECT_EQ(r.code, kExitOk) << c.name;
    EXPECT_NE(r.out.find("usage: dotpinctl " + std::string(c.name)), std::string::npos) << r.out;
    for (const OptionSpec& o : c.options) EXPECT_NE(r.out.find("--" + std::string(o.name)), std::string::npos);
  }
}

TEST(Cli, UsageErrorsSayWhatIsWrong) {
  CliRun r = run({});
  EXPECT_EQ(r.code, kExitFailure);
  r = run({"frobnicate"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << r.err;
  r = run({"pin"});
  EXPECT_NE(r.err.find("'pin' needs a command: pin compute, pin fetch"), std::string::npos) << r.err;
  r = run({"pins", "chek", "x"});
  EXPECT_NE(r.err.find("unknown command 'pins chek' (known: pins check, pins list, pins reload, pins add, pins remove, pins accept, pins forget, pins sources)"), std::string::npos) << r.err;
  r = run({"pin", "compute"});
  EXPECT_NE(r.err.find("missing argument: FILE..."), std::string::npos) << r.err;
  r = run({"pin", "compute", "--colour", "x"});
  EXPECT_NE(r.err.find("unknown option '--colour'"), std::string::npos) << r.err;
  r = run({"pin", "fetch", "127.0.0.1:853", "--name"});
  EXPECT_NE(r.err.find("--name needs a value (AUTH_NAME)"), std::string::npos) << r.err;
  r = run({"pin", "fetch", "a", "b"});
  EXPECT_NE(r.err.find("too many arguments"), std::string::npos) << r.err;
  r = run({"pins", "check", "f", "--warn-days", "1", "--warn-days=2"});
  EXPECT_NE(r.err.find("--warn-days given twice"), std::string::npos) << r.err;
  r = run({"pin", "compute", "--hex=yes", "f"});
  EXPECT_NE(r.err.find("--hex takes no value"), std::string::npos) << r.err;
}

TEST(Cli, UsageErrorsInJsonAreJson) {
  const CliRun r = run({"--json", "pin", "compute"});
  EXPECT_EQ(r.code, kExitFailure);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], false);
  EXPECT_NE(j["error"].get<std::string>().find("missing argument"), std::string::npos);
}

TEST(Cli, PinsCheckExitCodes) {
  const std::string clean = temp_file("clean.toml", upstream_with_pins(2));
  const std::string warn = temp_file("warn.toml", upstream_with_pins(1));
  const std::string bad = temp_file("bad.toml", upstream_with_pins(2) + "mode = \"maybe\"\n");
  CliRun r = run({"pins", "check", clean});
  EXPECT_EQ(r.code, kExitOk) << r.out;
  EXPECT_NE(r.out.find("1 upstream(s), 2 pin(s); 0 error(s), 0 warning(s)"), std::string::npos) << r.out;
  r = run({"pins", "check", warn});
  EXPECT_EQ(r.code, kExitWarnings) << r.out;
  EXPECT_NE(r.out.find(warn + ":1: warning: upstream 'u': only one pin"), std::string::npos) << r.out;
  r = run({"pins", "check", bad});
  EXPECT_EQ(r.code, kExitFailure) << r.out;
  EXPECT_NE(r.out.find(bad + ":8:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing loaded"), std::string::npos) << r.out;
  r = run({"pins", "check", "/nonexistent.toml"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.out.find("/nonexistent.toml: error: cannot open"), std::string::npos) << r.out;
  for (const auto& p : {clean, warn, bad}) std::remove(p.c_str());
}

TEST(Cli, PinsCheckAtAFutureDate) {
  std::string text = upstream_with_pins(1);
  text += "[[upstream.pin]]\nsha256 = \"" + pin_of(9) + "\"\nnot_after = 2030-01-01T00:00:00Z\n";
  const std::string f = temp_file("at.toml", text);
  EXPECT_EQ(run({"pins", "check", f, "--at", "2029-01-01"}).code, kExitOk);
  CliRun r = run({"pins", "check", f, "--at", "2029-12-15"});
  EXPECT_EQ(r.code, kExitWarnings);
  EXPECT_NE(r.out.find("window ends in 17 days"), std::string::npos) << r.out;
  r = run({"pins", "check", f, "--at", "2029-12-15", "--warn-days", "10"});
  EXPECT_EQ(r.code, kExitOk) << r.out;
  r = run({"pins", "check", f, "--at", "yesterday"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("dotpinctl: pins check: --at wants"), std::string::npos) << r.err;
  r = run({"--json", "pins", "check", f, "--warn-days", "-3"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(nlohmann::json::parse(r.out)["ok"], false) << r.out;
  std::remove(f.c_str());
}

TEST(Cli, PinsCheckJson) {
  const std::string f = temp_file("json.toml", upstream_with_pins(1) + "[[upstream.pin]]\nsha256 = \"bad\"\n");
  const CliRun r = run({"pins", "check", "--json", f});
  EXPECT_EQ(r.code, kExitFailure);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], false);
  ASSERT_EQ(j["errors"].size(), 1u);
  EXPECT_EQ(j["errors"][0]["line"], 7);
  EXPECT_EQ(j["errors"][0]["upstream"], "u");
  std::remove(f.c_str());
}

TEST(Cli, PinComputeMatchesReferenceAndReportsBadFiles) {
  DOTPIN_REQUIRE_PKI();
  const std::string dir = test::pki_dir();
  CliRun r = run({"--json", "pin", "compute", dir + "/leaf-p256.chain.pem", dir + "/spare.pub"});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["files"].size(), 2u);
  EXPECT_EQ(j["files"][0]["objects"][0]["pin_sha256"], test::reference_pin("leaf-p256"));
  EXPECT_EQ(j["files"][0]["objects"][1]["pin_sha256"], test::reference_pin("issuing"));
  EXPECT_EQ(j["files"][1]["objects"][0]["kind"], "public_key");
  EXPECT_EQ(j["files"][1]["objects"][0]["pin_sha256"], test::reference_pin("spare"));

  // One bad file among good ones: the good ones are still printed, the exit code says failure.
  r = run({"pin", "compute", dir + "/leaf-p256.crt", "/nonexistent.pem", dir + "/spare.key"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.out.find(test::reference_pin("leaf-p256")), std::string::npos);
  EXPECT_NE(r.err.find("/nonexistent.pem: cannot open"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("spare.key:1: PEM block 'PRIVATE KEY'"), std::string::npos) << r.err;
}

/// What a shell pipeline prints, without the trailing newline.
std::string shell_output(const std::string& command) {
  std::FILE* p = ::popen(command.c_str(), "r");
  EXPECT_NE(p, nullptr) << command;
  if (!p) return "";
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  EXPECT_EQ(::pclose(p), 0) << command;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST(Cli, PinTlsaPrintsTheLeafAndIssuerRecords) {
  DOTPIN_REQUIRE_PKI();
  const std::string dir = test::pki_dir();
  CliRun r = run({"pin", "tlsa", dir + "/leaf-p256.chain.pem", "--name", "dns.dotpin.test"});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  // The 3 1 1 data is the SHA-256 of the leaf's SPKI as openssl computes it.
  const std::string openssl = shell_output("openssl x509 -in '" + dir + "/leaf-p256.crt' -pubkey -noout"
                                           " | openssl pkey -pubin -outform der | openssl dgst -sha256");
  const std::string leaf_hex = openssl.substr(openssl.rfind(' ') + 1);
  ASSERT_EQ(leaf_hex.size(), 64u) << openssl;
  const std::string issuing_hex = hex_encode(*base64_decode(test::reference_pin("issuing")));
  EXPECT_NE(r.out.find("\n_853._tcp.dns.dotpin.test. IN TLSA 3 1 1 " + leaf_hex + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n_853._tcp.dns.dotpin.test. IN TLSA 2 1 1 " + issuing_hex + "\n"), std::string::npos) << r.out;
  // Each record after a comment naming its certificate, leaf first.
  const auto ee_comment = r.out.find("; DANE-EE, the server's key: [0] O=dotpin tests, CN=dns.dotpin.test, notAfter 20");
  const auto ta_comment = r.out.find("; DANE-TA, the issuer's key: [1] O=dotpin tests, CN=dotpin test issuing CA, notAfter 20");
  ASSERT_NE(ee_comment, std::string::npos) << r.out;
  ASSERT_NE(ta_comment, std::string::npos) << r.out;
  EXPECT_LT(ee_comment, r.out.find("TLSA 3 1 1"));
  EXPECT_LT(r.out.find("TLSA 3 1 1"), ta_comment);

  r = run({"--json", "pin", "tlsa", dir + "/leaf-p256.chain.pem", "--name", "dns.dotpin.test."});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["owner"], "_853._tcp.dns.dotpin.test.");
  ASSERT_EQ(j["records"].size(), 2u);
  EXPECT_EQ(j["records"][0]["usage"], 3);
  EXPECT_EQ(j["records"][0]["data"], leaf_hex);
  EXPECT_EQ(j["records"][1]["usage"], 2);
  EXPECT_EQ(j["records"][1]["element"], 1);
  EXPECT_EQ(j["records"][1]["data"], issuing_hex);
}

TEST(Cli, PinTlsaGivesNoIssuerRecordWithoutOneOnThePath) {
  DOTPIN_REQUIRE_PKI();
  const std::string dir = test::pki_dir();
  // A leaf alone: only 3 1 1.
  CliRun r = run({"--json", "pin", "tlsa", dir + "/leaf-p256.crt", "--name", "dns.dotpin.test"});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["records"].size(), 1u);
  EXPECT_EQ(j["records"][0]["usage"], 3);
  // The leaf's issuer only in the CA file: the server does not send it, so no DANE-TA record.
  const std::string ca = temp_file("issuing-ca.pem", test::pki_file("issuing.crt"));
  r = run({"pin", "tlsa", dir + "/leaf-p256.crt", "--name", "dns.dotpin.test", "--ca-file", ca});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_EQ(r.out.find("TLSA 2 1 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trust anchor from --ca-file that the server does not send"), std::string::npos) << r.out;
  std::remove(ca.c_str());
  // The genuine leaf and CA appended behind a self-signed impostor: neither is on the path.
  r = run({"pin", "tlsa", dir + "/hostile/selfsigned-plus-leaf.chain.pem", "--name", "dns.dotpin.test"});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_EQ(r.out.find("TLSA 2 1 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("TLSA 3 1 1 " + hex_encode(*base64_decode(test::reference_pin("hostile/selfsigned-plus-leaf")))),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("; [1] is not on the verified path (not a CA)"), std::string::npos) << r.out;
}

TEST(Cli, PinTlsaUsageErrors) {
  DOTPIN_REQUIRE_PKI();
  const std::string dir = test::pki_dir();
  CliRun r = run({"pin", "tlsa", dir + "/leaf-p256.chain.pem"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("give --name"), std::string::npos) << r.err;
  r = run({"pin", "tlsa", dir + "/spare.pub", "--name", "x"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("a public key, not a certificate"), std::string::npos) << r.err;
  r = run({"pin", "tlsa", "/nonexistent.pem", "--name", "x"});
  EXPECT_NE(r.err.find("/nonexistent.pem: cannot open"), std::string::npos) << r.err;
  r = run({"pin", "tlsa", dir + "/leaf-p256.crt", "--name", "x", "--sni", "y"});
  EXPECT_NE(r.err.find("--sni goes with HOST:PORT"), std::string::npos) << r.err;
  r = run({"pin", "tlsa", "not a host:port:x", "--name", "x"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("neither a file nor HOST:PORT"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dotpin::ctl
