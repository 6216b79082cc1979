// SPDX-License-Identifier: Apache-2.0
#include "tls/link.h"

namespace dotpin::tls {

std::string_view to_string(Link::State s) {
  switch (s) {
    case Link::State::kIdle: return "idle";
    case Link::State::kConnecting: return "connecting";
    case Link::State::kHandshaking: return "handshaking";
    case Link::State::kReady: return "ready";
    case Link::State::kFailed: return "failed";
    case Link::State::kClosed: return "closed";
  }
  return "?";
}

}  // namespace dotpin::tls
