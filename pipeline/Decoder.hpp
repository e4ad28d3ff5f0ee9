#pragma once
// A decoder turns the bytes of one input (a file, a stdin stream, one message) into
// FlowRecords. It is stateful per input: an AWS header line sets the field order for
// the lines after it; JSON-document formats buffer until finish().
//
// Contract: feed() receives whole lines only (each chunk ends just after a '\n', or
// at end of input), with the 1-based number of its first line. finish() is called once
// at end of input. Records go to the sink with source_index already set by the caller
// (decoders set source_line). Not thread-safe; one decoder per input stream.
#include <cstdint>
#include <memory>
#include <string_view>

#include "pipeline/DecodeSink.hpp"
#include "pipeline/FlowRecord.hpp"

namespace flowlier::pipeline {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual Format format() const = 0;
  virtual void feed(std::string_view lines, std::uint64_t first_line, DecodeSink& sink) = 0;
  virtual void finish(DecodeSink& sink) = 0;
  // Tags every record this decoder emits with the given source index.
  void set_source_index(std::uint32_t index) { source_index_ = index; }

 protected:
  std::uint32_t source_index_ = 0;
};

}  // namespace flowlier::pipeline
