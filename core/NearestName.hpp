#pragma once
// "Did you mean ...?": the known name nearest to a mistyped one (command-line flags,
// config keys), by edit distance, when it is near enough to be a likely typo.
#include <string>
#include <string_view>
#include <vector>

namespace flowlier::core {

// Levenshtein distance (insertions, deletions, substitutions), case-sensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The shortest candidate that `given` begins (a name cut short), else the candidate
// nearest to `given` within max(2, |given| / 4) edits, else "" (ties: the first).
std::string nearest_name(std::string_view given, const std::vector<std::string>& candidates);

}  // namespace flowlier::core
