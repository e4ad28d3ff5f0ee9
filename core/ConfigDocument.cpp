#include "core/ConfigDocument.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/TomlReader.hpp"

namespace flowlier::core {

ConfigDocument::ConfigDocument() : tree_(std::make_shared<const Tree>()) {}

ConfigDocumentResult parse_config_document(std::string_view text, const std::string& source_name) {
  ConfigDocumentResult result;
  try {
    auto tree = std::make_shared<ConfigDocument::Tree>();
    tree->root = toml::parse(text, source_name);
    result.document.tree_ = std::move(tree);
    result.document.source_ = source_name;
  } catch (const toml::parse_error& e) {
    result.error = fmt::format("{}:{}: {}", source_name, e.source().begin.line, e.description());
  }
  return result;
}

ConfigDocumentResult load_config_document(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigDocumentResult result;
    result.error = fmt::format("{}: cannot read the config file", path);
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config_document(text.str(), path);
}

}  // namespace flowlier::core
