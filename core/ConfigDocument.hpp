#pragma once
// A TOML configuration file, read and parsed once. Each component that owns a part of
// the file (pipeline: [window], [entities] ... [[rules]]; transport: [[sinks]] and
// [source.kafka]) reads its part from this one parse with core/TomlReader.hpp, so the
// file is read from disk once and every reader reports errors the same way.
// Light on purpose: toml++ is only included where a part is read.
#include <memory>
#include <string>
#include <string_view>

namespace flowlier::core {

struct ConfigDocumentResult;

class ConfigDocument {
 public:
  struct Tree;  // the parsed TOML root table (core/TomlReader.hpp)

  // No file: every key is absent, so every reader keeps its defaults.
  ConfigDocument();

  // The file or text as its readers name it in errors ("" for the empty document).
  const std::string& source() const { return source_; }
  // Whether this came from a file or text (rather than being the empty document).
  bool is_loaded() const { return !source_.empty(); }
  const Tree& tree() const { return *tree_; }

 private:
  friend ConfigDocumentResult parse_config_document(std::string_view text, const std::string& source_name);
  std::string source_;
  std::shared_ptr<const Tree> tree_;  // shared: copies of a Config share one parse
};

struct ConfigDocumentResult {
  ConfigDocument document;
  std::string error;  // "" on success; else "SOURCE:LINE: what is wrong" or "PATH: cannot read the config file"
};

// `source_name` names the text in errors (normally its path).
[[nodiscard]] ConfigDocumentResult parse_config_document(std::string_view text, const std::string& source_name);
// Reads `path` once and parses it.
[[nodiscard]] ConfigDocumentResult load_config_document(const std::string& path);

}  // namespace flowlier::core
