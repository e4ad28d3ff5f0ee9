#pragma once
// Reads one table of a ConfigDocument with typed, range-checked getters, remembering
// which keys were asked for so every other key is reported as unknown. One error
// shape for every config reader: "SOURCE:LINE: 'KEY' must be ...", the first error
// wins, later calls do nothing. Includes toml++: include it from .cpp files only.
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "core/ConfigDocument.hpp"

namespace flowlier::core {

struct ConfigDocument::Tree {
  toml::table root;
};

// The line of `node` in its file (1-based; 0 when toml++ does not know it).
inline std::uint32_t line_of(const toml::node& node) { return node.source().begin.line; }

class TomlReader {
 public:
  // The whole document; keys are dotted paths ("window.seconds"). The reader shares
  // the parse, so it may outlive `document`.
  explicit TomlReader(const ConfigDocument& document);
  // One table of a document; `prefix` names its keys in messages ("sinks[2].",
  // "source.kafka."). The table must outlive the reader.
  TomlReader(const toml::table& table, std::string source, std::string prefix);

  // Absent keys leave `out` unchanged. Integers must be whole, not negative and fit
  // T: a value T cannot hold is an error, never truncated (hwm = 4294967297 into a
  // std::uint32_t is not 1). Doubles accept integers, booleans what toml++'s
  // value<bool>() accepts (as before); strings, arrays of strings and tables of
  // strings must be exactly that.
  template <typename T>
  void get(std::string_view key, T& out) {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      get_integer(key, out, T{0}, std::numeric_limits<T>::max());
    } else {
      const toml::node* n = node(key);
      if (n == nullptr) return;
      if constexpr (std::is_same_v<T, bool>) {
        if (auto v = n->value<bool>()) out = *v;
        else fail(*n, key, "must be a boolean");
      } else if constexpr (std::is_floating_point_v<T>) {
        if (auto v = n->value<double>()) out = static_cast<T>(*v);
        else fail(*n, key, "must be a number");
      } else if constexpr (std::is_same_v<T, std::string>) {
        if (auto v = n->value<std::string>()) out = *v;
        else fail(*n, key, "must be a string");
      } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        read_strings(*n, key, out);
      } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
        read_string_table(*n, key, out);
      } else {
        static_assert(sizeof(T) == 0, "TomlReader::get: no reader for this type");
      }
    }
  }

  // An integer within [min, max] (and within T), else an error naming the key and both bounds.
  template <std::integral T>
  void get_integer(std::string_view key, T& out, T min, T max) {
    const toml::node* n = node(key);
    if (n == nullptr) return;
    const auto v = n->value<std::int64_t>();
    if (v && in_range(*v, static_cast<std::int64_t>(min), max)) {
      out = static_cast<T>(*v);
      return;
    }
    fail(*n, key, range_message(static_cast<std::int64_t>(min), clamp_to_int64(max)));
  }

  // The node at `key`, marked as read; nullptr when absent or after an error. For
  // values with their own shape (a port written 22 or "tcp/22").
  const toml::node* node(std::string_view key);
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Unless `ok`: "'KEY' MESSAGE" at the key's line (the table's when the key is absent).
  void check(bool ok, std::string_view key, std::string_view message);
  void fail(std::string_view key, std::string_view message) { check(false, key, message); }
  void fail(const toml::node& at, std::string_view key, std::string_view message);

  // A subtree another reader validates ([[sinks]] for transport), not unknown here.
  void delegate(std::string_view key) { seen_.insert(std::string(key)); }
  // The first key in file order that nothing asked for: "unknown key 'KEY'", with the
  // nearest known key when it looks like a typo, then `context` (" for a file sink").
  void reject_unknown(std::string_view context = "");

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& source() const { return source_; }

 private:
  const toml::node* find(std::string_view key) const;
  void read_strings(const toml::node& n, std::string_view key, std::vector<std::string>& out);
  void read_string_table(const toml::node& n, std::string_view key, std::map<std::string, std::string>& out);
  void walk(const toml::table& table, const std::string& path, std::vector<std::pair<std::uint32_t, std::string>>& unknown) const;
  template <typename U>
  static bool in_range(std::int64_t v, std::int64_t min, U max) {
    if (v < min) return false;
    return v < 0 || static_cast<std::uint64_t>(v) <= static_cast<std::uint64_t>(max);
  }
  template <typename U>
  static std::int64_t clamp_to_int64(U max) {
    // TOML integers are signed 64-bit: no file can hold more.
    if constexpr (std::is_unsigned_v<U>) {
      return max > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                 ? std::numeric_limits<std::int64_t>::max()
                 : static_cast<std::int64_t>(max);
    } else {
      return static_cast<std::int64_t>(max);
    }
  }
  static std::string range_message(std::int64_t min, std::int64_t max);

  ConfigDocument document_;  // keeps the parse alive when read from a whole document
  const toml::table& table_;
  std::string source_;
  std::string prefix_;
  std::set<std::string> seen_;
  std::vector<std::string> known_;  // every key asked for, present or not (for "did you mean")
  std::string error_;
};

}  // namespace flowlier::core
