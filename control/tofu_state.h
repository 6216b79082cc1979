// SPDX-License-Identifier: Apache-2.0
/// @file tofu_state.h
/// @brief The trust-on-first-use state file: the keys the control plane learned, per upstream.
///
/// It is dotpind's own file ([tofu] state_file, JSON), never the operator's pin file: the operator's
/// file stays exactly what the operator wrote. It is written atomically (write, fsync, rename, with
/// the old file kept as FILE.prev) before a learned key is published, so a restart enforces what
/// was in force. A state file that cannot be read or parsed stops dotpind: silently starting over
/// would re-open the first-use window an attacker needs.
///
/// An entry is bound to the upstream's name, address and auth_name as they were when it was
/// learned; an entry whose upstream changed address or name in the pin file is not used (the key
/// is learned again, for the identity the operator now configured) and `pins list` says so.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/time_util.h"
#include "pinning/pin_set.h"
#include "pinning/spki_pin.h"

namespace dotpin::ctl {

struct LearnedPin {
  PinDigest digest{};
  PinScope scope = PinScope::kLeaf;  ///< kLeaf: the handshake's key; kIssuer: its issuer on the verified path
  UnixTime learned_at{};
  std::string learned_from;  ///< the address(es) that presented it, "198.18.0.2:853, 198.18.1.2:853"
};

struct LearnedUpstream {
  std::string address;    ///< the upstream's address when learned
  std::string auth_name;  ///< and its auth_name
  std::vector<LearnedPin> pins;
};

struct TofuState {
  std::map<std::string, LearnedUpstream> upstreams;  ///< by upstream name

  /// The learned entry of @p up, if it is bound to @p up's current address and auth_name.
  [[nodiscard]] const LearnedUpstream* entry_for(const UpstreamPins& up) const;
};

/// Reads @p path. A missing file is an empty state (nothing learned yet); anything else that is
/// wrong with it is an error naming the file and what is wrong.
Result<TofuState> load_tofu_state(const std::string& path);

/// With [[view]] sections each view learns into its own file and [tofu] state_file is read by none:
/// the keys it holds (learned before the views were configured) would silently be learned again on
/// first use. An error, naming the views' files, while @p appliance_file (or its FILE.prev) exists
/// and is none of @p view_files.
Status check_state_file_migrated(const std::string& appliance_file, const std::vector<std::string>& view_files);

/// Files beside @p appliance_file named like a view's default state file (STEM.NAME.EXT) that are
/// none of @p view_files: a view renamed or removed. Their keys are not used (a renamed view
/// learns again); dotpind warns of each at start.
std::vector<std::string> orphaned_view_state_files(const std::string& appliance_file,
                                                   const std::vector<std::string>& view_files);
/// The JSON text of @p state.
std::string render_tofu_state(const TofuState& state);
/// Parses state-file text (for load_tofu_state and tests); @p source names it in errors.
Result<TofuState> parse_tofu_state(std::string_view text, const std::string& source);
/// Writes @p state to @p path atomically.
Status save_tofu_state(const std::string& path, const TofuState& state);

/// The pins of @p learned as the pin table holds them: origin kTofu, labels "tofu-leaf" and
/// "tofu-issuer", with when and where they were learned.
std::vector<Pin> learned_pins(const LearnedUpstream& learned);

}  // namespace dotpin::ctl
