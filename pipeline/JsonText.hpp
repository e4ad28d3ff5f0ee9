#pragma once
// Minimal JSON text helpers for the hot output paths (records, events), where a DOM
// would allocate per field.
#include <string>
#include <string_view>

namespace flowlier::pipeline {

// Appends `text` as a JSON string literal (quotes included). Invalid UTF-8 bytes
// are replaced by U+FFFD so the output always parses.
void append_json_string(std::string& out, std::string_view text);

}  // namespace flowlier::pipeline
