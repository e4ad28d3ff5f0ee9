#pragma once
// Expands the paths a user names into the ordered list of inputs to read.
#include <string>
#include <vector>

namespace flowlier::pipeline {

struct InputList {
  std::vector<std::string> files;   // "-" stands for stdin
  std::vector<std::string> errors;  // one sentence per path that could not be used
};

// Directories are walked recursively; their regular, non-hidden files are read in
// order of file name (S3 delivery names embed the time, so this is time order), then
// path. Plain file paths and "-" keep the order given.
InputList expand_inputs(const std::vector<std::string>& paths);

}  // namespace flowlier::pipeline
