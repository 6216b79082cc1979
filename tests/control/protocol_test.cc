// SPDX-License-Identifier: Apache-2.0
#include "control/protocol.h"

#include <gtest/gtest.h>

namespace dotpin::ctl {
namespace {

TEST(Protocol, RequestRoundTrip) {
  Request r;
  r.command = "stats";
  r.args = {"a b", "\"quoted\"\n"};
  r.options["upstream"] = {"lab"};
  const std::string line = encode_request(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);  // one line, whatever the arguments hold
  const auto back = decode_request(line);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->command, "stats");
  EXPECT_EQ(back->args, r.args);
  EXPECT_EQ(back->options.at("upstream"), std::vector<std::string>{"lab"});
}

TEST(Protocol, MalformedRequestsSayWhatIsWrong) {
  EXPECT_NE(decode_request("not json").error().find("not JSON"), std::string::npos);
  EXPECT_NE(decode_request("[1,2]").error().find("JSON object"), std::string::npos);
  EXPECT_NE(decode_request("{}").error().find("\"command\""), std::string::npos);
  EXPECT_NE(decode_request(R"({"command": 7})").error().find("\"command\""), std::string::npos);
  EXPECT_NE(decode_request(R"({"command": "x", "args": "y"})").error().find("\"args\""), std::string::npos);
  EXPECT_NE(decode_request(R"({"command": "x", "args": [1]})").error().find("\"args\""), std::string::npos);
  EXPECT_NE(decode_request(R"({"command": "x", "options": {"a": "b"}})").error().find("option \"a\""), std::string::npos);
  EXPECT_NE(decode_request(R"({"command": "x", "extra": 1})").error().find("unknown request field"), std::string::npos);
  EXPECT_NE(decode_request(std::string(kMaxLine + 1, ' ')).error().find("longer than"), std::string::npos);
}

TEST(Protocol, Replies) {
  const auto ok = decode_reply(encode_ok({{"a", 1}}));
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["a"], 1);
  const auto err = decode_reply(encode_error("no upstream named 'x'"));
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error(), "no upstream named 'x'");
  EXPECT_FALSE(decode_reply("garbage"));
  EXPECT_FALSE(decode_reply(R"({"ok": "yes"})"));
  // An error text that is not UTF-8 still makes a valid reply line.
  EXPECT_TRUE(nlohmann::json::accept(encode_error(std::string("bad \xff byte"))));
}

}  // namespace
}  // namespace dotpin::ctl
