// SPDX-License-Identifier: Apache-2.0
/// @file tcp_service.h
/// @brief Slow path: DNS over TCP (RFC 7766) and DoT (RFC 7858) for clients. One service thread lives in a network
/// namespace of its own whose only interface is the exception path's tap (exception_port.h): it
/// moves the tap there, gives it the appliance's addresses and MAC (NOARP, a default route out of
/// it), listens on port 53 (and on 853 with a [dot] certificate: wolfSSL sessions over memory,
/// tls/server_context.h) and serves connections with io_uring — pipelined queries answered out
/// of order, idle and write timeouts, caps on connections overall and per client address, a read
/// buffer that grows only to the message being read, and at most max_inflight_per_connection
/// answers held per connection. Each complete query goes to a worker lcore (stream_query.h),
/// chosen by the client's address, and is answered from that lcore's cache and pinned shard.
#pragma once

#include <atomic>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "dataplane/packet.h"
#include "dataplane/stream_query.h"
#include "dataplane/tcp_options.h"

namespace dotpin::dataplane {

class TcpService {
 public:
  /// Creates the pool and one channel per worker lcore (EAL must be initialised); nothing runs.
  static Result<std::unique_ptr<TcpService>> create(const TcpOptions& options, unsigned lcores);
  ~TcpService();

  /// The channel of worker @p i, for its WorkerSetup.
  [[nodiscard]] StreamChannel* channel(unsigned i) noexcept { return &channels_[i]; }
  /// Starts the thread: namespace, tap @p interface (kernel name) with @p local's addresses and
  /// MAC, listeners. Returns once it serves, or why it cannot.
  Status start(const std::string& interface, const LocalAddresses& local);
  /// Stops the thread (after the lcores stopped: no answer comes back any more) and closes every
  /// connection.
  void stop();
  /// TCP on 53 (@p dot false) or DoT on 853.
  [[nodiscard]] TcpStats stats(bool dot = false) const;

 private:
  struct Impl;
  explicit TcpService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<StreamChannel> channels_;
  std::thread thread_;
};

}  // namespace dotpin::dataplane
