// SPDX-License-Identifier: Apache-2.0
/// @file exception_port.h
/// @brief Start-up: the exception path's port — a net_tap device with one queue pair per worker
/// lcore, created at run time, whose kernel side the TCP service moves into its own network
/// namespace (tcp_service.h). Worker lcores write TCP segments to our DNS ports to their queue and
/// send what the kernel writes back out through the client port (worker_stream.cc). Why a tap and
/// not virtio_user with vhost-net: docs/architecture.md, "The exception path".
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

struct rte_mempool;

namespace dotpin::dataplane {

struct ExceptionPort {
  std::uint16_t id = 0;
  std::string device;     ///< the ethdev name
  std::string interface;  ///< the kernel's name for it
  bool open = false;
};

/// Creates and starts the tap @p interface with @p queues queue pairs on @p pool. EAL must be
/// initialised.
Result<ExceptionPort> open_exception_port(const std::string& interface, unsigned queues, rte_mempool* pool);
void close_exception_port(ExceptionPort& port);

}  // namespace dotpin::dataplane
