// SPDX-License-Identifier: Apache-2.0
/// @file control_server.h
/// @brief The control socket: a Unix stream socket served by one thread (never a worker lcore).
/// JSON-lines requests (protocol.h) are dispatched to handlers by command name. The socket is mode
/// 0600 (0660 with a configured group), never world-writable. Malformed or oversized requests get an
/// error reply; a client that does not read its replies is dropped when its output backs up; idle
/// clients are closed; none of them can stall the thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "control/protocol.h"

namespace dotpin::ctl {

struct Command;

class ControlServer {
 public:
  using Handler = std::function<Result<nlohmann::json>(const Request&)>;
  struct Options {
    std::string path = kDefaultSocket;
    std::string group;                        ///< empty: owner only (0600); else 0660 and this group
    std::size_t max_clients = 32;
    std::size_t max_output = 1 << 20;         ///< unread reply bytes before a client is dropped
    std::chrono::milliseconds idle_timeout{30000};
  };

  /// Binds and listens (a stale socket file is replaced; a live one is an error).
  static Result<std::unique_ptr<ControlServer>> open(Options options);
  ~ControlServer();

  /// Registers @p handler for @p command (before start()). A request for a command of dotpinctl's
  /// table (command.h) is checked against its entry before @p handler sees it.
  void handle(std::string command, Handler handler);
  /// The commands registered, sorted.
  [[nodiscard]] std::vector<std::string> commands() const;
  void start();
  /// Stops the thread, closes every client and removes the socket file.
  void stop();

 private:
  struct Client;
  explicit ControlServer(Options options) : options_(std::move(options)) {}
  void loop();
  std::string dispatch(std::string_view line);

  Options options_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::map<std::string, Handler> handlers_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

/// A request checked against dotpinctl's table entry @p c: argument count, options it knows (values
/// where they take one). The error is "usage: ..." built from the table.
Status check_request(const Command& c, const Request& r);

/// Client side: sends @p request to the socket at @p path and returns the reply's result (or the
/// daemon's error). Bounded by @p timeout.
Result<nlohmann::json> call(const std::string& path, const Request& request,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

}  // namespace dotpin::ctl
