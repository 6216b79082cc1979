// SPDX-License-Identifier: Apache-2.0
/// @file pin_file_writer.h
/// @brief Writes a pin table back as a pin file (the format of pin_file.h), and replaces a file
/// atomically, for changes made at runtime (`dotpinctl pins add/remove/reload`).
///
/// The rendering is canonical: what parse_pin_file() reads back is the same table. Operator
/// comments in the old file are not carried over (the header says so); the previous file is kept
/// next to it as FILE.prev.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "pinning/pin_set.h"

namespace dotpin {

/// The table as pin-file TOML. @p header is written as comment lines at the top.
std::string render_pin_file(const PinTable& table, std::string_view header);

/// Replaces @p path with @p text so that a crash leaves either the old or the new file, never a
/// mix: writes PATH.tmp (mode 0600 unless the old file had another mode), fsyncs it, hard-links the
/// old file to PATH.prev, renames the new one over PATH and fsyncs the directory.
Status replace_file_atomically(const std::string& path, std::string_view text);

}  // namespace dotpin
