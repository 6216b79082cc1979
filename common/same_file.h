// SPDX-License-Identifier: Apache-2.0
/// @file same_file.h
/// @brief One spelling per file, for telling whether two configured paths name the same file.
#pragma once

#include <filesystem>
#include <string>

namespace dotpin {

/// Symlinks resolved where the path can be read, else the absolute normal form: a directory that
/// cannot be searched must not make two different paths compare equal (nor hide a duplicate that
/// is spelt the same).
inline std::string same_file_key(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(path, ec);
  if (ec || p.empty()) p = std::filesystem::absolute(path, ec).lexically_normal();
  return p.string();
}

}  // namespace dotpin
