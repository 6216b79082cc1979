// SPDX-License-Identifier: Apache-2.0
#include "dataplane/tcp_options.h"

namespace dotpin::dataplane {

std::string_view to_string(TcpCounter c) {
  switch (c) {
    case TcpCounter::kAccepted: return "accepted";
    case TcpCounter::kRefusedLimit: return "refused_limit";
    case TcpCounter::kRefusedClientLimit: return "refused_client_limit";
    case TcpCounter::kQueries: return "queries";
    case TcpCounter::kAnswers: return "answers";
    case TcpCounter::kKeepalive: return "keepalive";
    case TcpCounter::kClosedByClient: return "closed_by_client";
    case TcpCounter::kClosedIdle: return "closed_idle";
    case TcpCounter::kClosedSlowReader: return "closed_slow_reader";
    case TcpCounter::kClosedBadLength: return "closed_bad_length";
    case TcpCounter::kClosedBadMessage: return "closed_bad_message";
    case TcpCounter::kClosedTlsOnPlain: return "closed_tls_on_plain";
    case TcpCounter::kClosedError: return "closed_error";
    case TcpCounter::kAnswersDropped: return "answers_dropped";
    case TcpCounter::kTlsHandshakes: return "tls_handshakes";
    case TcpCounter::kTlsResumed: return "tls_resumed";
    case TcpCounter::kClosedTlsHandshake: return "closed_tls_handshake";
    case TcpCounter::kClosedHandshakeTimeout: return "closed_handshake_timeout";
    case TcpCounter::kClosedPlainOnTls: return "closed_plain_on_tls";
    case TcpCounter::kClosedTlsError: return "closed_tls_error";
    case TcpCounter::kClosedTlsNoData: return "closed_tls_no_data";
    case TcpCounter::kCount_: break;
  }
  return "unknown";
}

}  // namespace dotpin::dataplane
