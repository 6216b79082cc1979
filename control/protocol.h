// SPDX-License-Identifier: Apache-2.0
/// @file protocol.h
/// @brief The control socket's protocol, shared by dotpind and dotpinctl: JSON lines. A request is
/// one line `{"command": "stats", "args": [...], "options": {"upstream": ["a"]}}`; the answer is one
/// line `{"ok": true, "result": {...}}` or `{"ok": false, "error": "..."}`. A line is at most
/// kMaxLine bytes; anything else is an error reply, never a hang.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dotpin::ctl {

inline constexpr std::size_t kMaxLine = 64 * 1024;
inline constexpr const char* kDefaultSocket = "/run/dotpin/dotpind.sock";

struct Request {
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::vector<std::string>> options;
};

/// One line (no newline) for @p r.
std::string encode_request(const Request& r);
/// Parses a request line; the error says what is wrong with it.
Result<Request> decode_request(std::string_view line);

/// Reply lines.
std::string encode_ok(const nlohmann::json& result);
std::string encode_error(std::string_view message);
/// Parses a reply line: the result, or the daemon's error message.
Result<nlohmann::json> decode_reply(std::string_view line);

}  // namespace dotpin::ctl
