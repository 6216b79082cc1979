// SPDX-License-Identifier: Apache-2.0
#include "pinning/pin_file.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace dotpin {
namespace {

// Two distinct, valid pins.
std::string pin_a() { return base64_encode(std::vector<std::uint8_t>(32, 0x01)); }
std::string pin_b() { return base64_encode(std::vector<std::uint8_t>(32, 0x02)); }

std::string good_file() {
  return R"(# dotpin pins
version = 1

[[upstream]]
name = "primary-dot"
address = "192.0.2.1"
auth_name = "dns.example.net"

[[upstream.pin]]
label = "primary"
sha256 = ")" + pin_a() + R"("

[[upstream.pin]]
label = "backup"
sha256 = ")" + pin_b() + R"("
not_before = 2027-01-01
not_after = 2028-01-01T12:00:00+02:00

[[upstream]]
name = "v6"
address = "[2001:db8::53]:8853"
mode = "report"
pin = [ { sha256 = ")" + pin_a() + R"(" }, { sha256 = ")" + pin_b() + R"(", label = "b" } ]
)";
}

/// Parses @p text and returns "line:message" of every error.
std::vector<std::string> errors_of(const std::string& text) {
  const PinFileResult r = parse_pin_file(text, "pins.toml");
  EXPECT_EQ(r.table.has_value(), r.errors.empty());
  std::vector<std::string> out;
  for (const auto& d : r.errors) {
    EXPECT_EQ(d.severity, Severity::kError);
    EXPECT_EQ(d.file, "pins.toml");
    out.push_back(std::to_string(d.line) + ":" + d.message);
  }
  return out;
}

/// Expects exactly one error, on @p line, whose message contains @p needle.
void expect_one_error(const std::string& text, int line, const std::string& needle) {
  const auto errs = errors_of(text);
  ASSERT_EQ(errs.size(), 1u) << ::testing::PrintToString(errs);
  EXPECT_EQ(errs[0].substr(0, errs[0].find(':')), std::to_string(line)) << errs[0];
  EXPECT_NE(errs[0].find(needle), std::string::npos) << errs[0];
}

std::string upstream(const std::string& extra_upstream, const std::string& extra_pin = "") {
  return "[[upstream]]\nname = \"u\"\naddress = \"192.0.2.1:853\"\n" + extra_upstream +
         "\n[[upstream.pin]]\nsha256 = \"" + pin_a() + "\"\n" + extra_pin;
}

TEST(PinFile, ParsesAGoodFile) {
  const PinFileResult r = parse_pin_file(good_file(), "pins.toml");
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().to_string();
  ASSERT_TRUE(r.table.has_value());
  const PinTable& t = *r.table;
  ASSERT_EQ(t.upstreams.size(), 2u);
  const UpstreamPins& a = t.upstreams[0];
  EXPECT_EQ(a.name, "primary-dot");
  EXPECT_EQ(a.address.to_string(), "192.0.2.1:853");
  EXPECT_EQ(a.auth_name, "dns.example.net");
  EXPECT_EQ(a.mode, PinMode::kEnforce);
  EXPECT_EQ(a.line, 4);
  ASSERT_EQ(a.pins.size(), 2u);
  EXPECT_EQ(pin_base64(a.pins[0].digest), pin_a());
  EXPECT_EQ(a.pins[0].label, "primary");
  EXPECT_FALSE(a.pins[0].not_before.has_value());
  EXPECT_EQ(a.pins[1].line, 13);
  EXPECT_EQ(format_utc(*a.pins[1].not_before), "2027-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(*a.pins[1].not_after), "2028-01-01T10:00:00Z");  // offset applied

  const UpstreamPins& b = *t.find("v6");
  EXPECT_EQ(b.address.to_string(), "[2001:db8::53]:8853");
  EXPECT_EQ(b.mode, PinMode::kReport);
  EXPECT_EQ(b.pins.size(), 2u);
  EXPECT_EQ(b.pins[1].label, "b");
  EXPECT_EQ(t.find("nope"), nullptr);
}

TEST(PinFile, SyntaxErrorHasLineAndColumn) {
  const PinFileResult r = parse_pin_file("[[upstream]]\nname = \"u\"\naddress = 192.0.2.1\n", "pins.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_GT(r.errors[0].column, 0);
  EXPECT_NE(r.errors[0].message.find("TOML syntax"), std::string::npos);
  EXPECT_FALSE(r.table.has_value());
}

TEST(PinFile, DuplicateKeyIsASyntaxError) {
  expect_one_error(upstream("", "label = \"x\"\nsha256 = \"AAAA\"\n"), 8, "cannot redefine existing string 'sha256'");
}

TEST(PinFile, BadBase64) {
  expect_one_error(upstream("", "[[upstream.pin]]\nsha256 = \"not base64!\"\n"), 8, "not valid base64");
}

TEST(PinFile, WrongDigestLength) {
  expect_one_error(upstream("", "[[upstream.pin]]\nsha256 = \"AAAAAAAAAAAAAAAAAAAAAAAAAAA=\"\n"), 8,
                   "decodes to 20 bytes; a SHA-256 pin has 32 (is it a SHA-1 pin?)");
}

TEST(PinFile, UnknownKeys) {
  expect_one_error(upstream("colour = \"red\""), 4, "unknown key 'colour'");
  expect_one_error(upstream("", "max_age = 5\n"), 7, "unknown pin key 'max_age'");
  expect_one_error("stuff = 1\n" + upstream(""), 1, "unknown key 'stuff'");
}

TEST(PinFile, DuplicateUpstream) {
  const auto errs = errors_of(upstream("") + "\n" + upstream(""));
  ASSERT_EQ(errs.size(), 1u) << ::testing::PrintToString(errs);
  EXPECT_EQ(errs[0], "8:duplicate upstream name (first defined at line 1)");
}

TEST(PinFile, WindowOrder) {
  expect_one_error(upstream("", "not_before = 2027-06-01\nnot_after = 2027-05-01\n"), 5,
                   "not_after (2027-05-01T00:00:00Z) is not after not_before (2027-06-01T00:00:00Z)");
}

TEST(PinFile, DatesMustBeUnambiguous) {
  expect_one_error(upstream("", "not_after = \"2027-01-01\"\n"), 7, "without quotes");
  expect_one_error(upstream("", "not_after = 2027-01-01T00:00:00\n"), 7, "needs a UTC offset");
  expect_one_error(upstream("", "not_after = 12\n"), 7, "must be a date-time");
}

TEST(PinFile, RequiredFields) {
  expect_one_error("[[upstream]]\naddress = \"192.0.2.1\"\n[[upstream.pin]]\nsha256 = \"" + pin_a() + "\"\n", 1,
                   "no 'name'");
  expect_one_error("[[upstream]]\nname = \"u\"\n[[upstream.pin]]\nsha256 = \"" + pin_a() + "\"\n", 1, "no 'address'");
  expect_one_error("[[upstream]]\nname = \"u\"\naddress = \"192.0.2.1\"\n", 1, "no pins");
  expect_one_error(upstream("", "[[upstream.pin]]\nlabel = \"x\"\n"), 7, "pin has no 'sha256'");
  expect_one_error("version = 1\n", 0, "no [[upstream]] table");
}

TEST(PinFile, FieldValues) {
  expect_one_error(upstream("mode = \"strict\""), 4, "mode 'strict' is not one of: enforce, report");
  expect_one_error(upstream("auth_name = \"bad name\""), 4, "not a valid host name");
  expect_one_error("[[upstream]]\nname = \"has space\"\naddress = \"192.0.2.1\"\n[[upstream.pin]]\nsha256 = \"" +
                       pin_a() + "\"\n",
                   2, "must be 1-63 characters");
  expect_one_error("[[upstream]]\nname = \"u\"\naddress = \"dns.example.net:853\"\n[[upstream.pin]]\nsha256 = \"" +
                       pin_a() + "\"\n",
                   3, "not an IP address");
  expect_one_error("version = 2\n" + upstream(""), 1, "version must be 1");
  expect_one_error(upstream("", "[[upstream.pin]]\nsha256 = \"" + pin_a() + "\"\n"), 7, "repeats the pin at line 5");
}

TEST(PinFile, ReportsEveryErrorAtOnce) {
  const std::string text = "[[upstream]]\nname = \"u\"\naddress = \"999.0.0.1\"\nmode = \"x\"\n"
                           "[[upstream.pin]]\nsha256 = \"AAAA\"\nnot_after = \"soon\"\n";
  const auto errs = errors_of(text);
  ASSERT_EQ(errs.size(), 4u) << ::testing::PrintToString(errs);
  EXPECT_EQ(errs[0].substr(0, 2), "3:");
  EXPECT_EQ(errs[1].substr(0, 2), "4:");
  EXPECT_EQ(errs[2].substr(0, 2), "6:");
  EXPECT_EQ(errs[3].substr(0, 2), "7:");
}

TEST(PinFile, DiagnosticFormat) {
  const PinFileResult r = parse_pin_file(upstream("mode = \"x\""), "/etc/dotpin/pins.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string().rfind("/etc/dotpin/pins.toml:4:", 0), 0u) << r.errors[0].to_string();
  EXPECT_NE(r.errors[0].to_string().find(": error: upstream 'u': mode 'x'"), std::string::npos)
      << r.errors[0].to_string();
}

TEST(PinFile, MissingFileIsAnError) {
  const PinFileResult r = load_pin_file("/nonexistent/pins.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, "/nonexistent/pins.toml");
  EXPECT_NE(r.errors[0].message.find("cannot open"), std::string::npos) << r.errors[0].message;
}

}  // namespace
}  // namespace dotpin
