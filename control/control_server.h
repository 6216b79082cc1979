// SPDX-License-Identifier: Apache-2.0
/// @file control_server.h
/// @brief The control socket: a Unix stream socket served by one thread (never a worker lcore).
/// JSON-lines requests (protocol.h) are dispatched to handlers by command name. The socket is mode
/// 0600 (0660 with a configured group), never world-writable. Malformed or oversized requests get an
/// error reply; a client that does not read its replies is dropped when its output backs up or its
/// reply is not taken within the write deadline; none of them can stall the thread.
///
/// Nor can they lock operators out (issue 19): a client must complete a request line within the
/// request deadline of connecting (bytes that trickle in do not extend it); one that has been
/// answered may stay connected, idle, up to the idle timeout. When every normal slot is held, a new
/// client takes the reserve slot and the server closes one other client at once so that the reserve
/// is free again for the next newcomer: the one that has waited longest for its next request (since
/// it connected or since its last reply), clients whose reply backs up last. A newcomer is never
/// refused, and dotpinctl, which sends its request as it connects, is answered as it is accepted.
/// docs/operations.md "The control socket under pressure" has the reasons.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "control/protocol.h"

namespace dotpin::ctl {

struct Command;

class ControlServer {
 public:
  using Handler = std::function<Result<nlohmann::json>(const Request&)>;
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::string path = kDefaultSocket;
    std::string group;                        ///< empty: owner only (0600); else 0660 and this group
    std::size_t max_clients = 64;             ///< normal slots; one more is kept in reserve
    std::size_t max_output = 1 << 20;         ///< unread reply bytes before a client is dropped
    /// To complete a request line: from connecting, or from the first byte of a later request.
    std::chrono::milliseconds request_timeout{2000};
    /// For a queued reply to be taken by the client, from the moment it queued.
    std::chrono::milliseconds write_timeout{5000};
    /// How long an answered client may stay connected without starting its next request.
    std::chrono::milliseconds idle_timeout{30000};
    /// Told, at most once per warn_interval, how many clients were closed for a deadline, for
    /// unread output or to make room (counts only: nothing a client sent).
    std::function<void(std::string_view)> warn;
    std::chrono::milliseconds warn_interval{10000};
  };
  /// Clients closed by the server, by reason, since open() (for tests and the warn line).
  struct Counters {
    std::uint64_t accepted = 0;
    std::uint64_t request_deadline = 0;  ///< no complete request line within request_timeout
    std::uint64_t write_deadline = 0;    ///< a reply not taken within write_timeout
    std::uint64_t unread_output = 0;     ///< more than max_output bytes of replies not taken
    std::uint64_t idle = 0;              ///< answered, then silent for idle_timeout (ordinary)
    std::uint64_t evicted = 0;           ///< closed to keep the reserve slot free for a newcomer
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
  /// A snapshot; any thread.
  [[nodiscard]] Counters counters() const;

 private:
  struct Client;
  struct Deadline;
  /// Why serve() wants a client closed; kKeep: it stays.
  enum class Close { kKeep, kDone, kError, kRequestDeadline, kWriteDeadline, kUnreadOutput, kIdle, kEvicted };
  using Clients = std::vector<std::unique_ptr<Client>>;
  explicit ControlServer(Options options) : options_(std::move(options)) {}
  void loop();
  [[nodiscard]] Deadline deadline_of(const Client& c) const;
  void accept_clients(Clients& clients, Clock::time_point now);
  Close serve(Client& c, short revents, Clock::time_point now);
  bool receive(Client& c, Clock::time_point now);
  void close_client(Client& c, Close why);
  void warn_if_due(Clock::time_point now, bool stopping = false);
  std::string dispatch(std::string_view line);

  Options options_;
  mutable std::mutex counters_mutex_;
  Counters counters_;
  Counters warned_;                  // counters_ as of the last warn line (loop thread only)
  Clock::time_point last_warn_{};    // loop thread only
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
