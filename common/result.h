// SPDX-License-Identifier: Apache-2.0
/// @file result.h
/// @brief A small value-or-error type for start-up and control-plane code.
///
/// C++20 has no std::expected; this carries the same idea: functions that can fail for reasons the
/// operator must read return Result<T>, whose error is a human-readable message. The data path does
/// not use it (it returns enums and counts reasons).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace dotpin {

/// An error message meant for an operator ("pins.toml:12: bad base64 in sha256").
struct Error {
  std::string message;
};

/// Either a value of T or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  [[nodiscard]] const std::string& error() const { return std::get<1>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

/// A result with no value: success or an Error.
using Status = Result<std::monostate>;
inline Status ok_status() { return std::monostate{}; }

/// Shorthand for building an error result: `return fail("cannot open ", path);`
template <class... Parts>
Error fail(Parts&&... parts) {
  std::string s;
  (s.append(std::forward<Parts>(parts)), ...);
  return Error{std::move(s)};
}

}  // namespace dotpin
