#pragma once
// Cuts a byte stream (a followed file, stdin) into chunks of whole lines, each at most
// about max_chunk_bytes, so every chunk is an input a decoder can read on its own.
// A partial last line is kept until its newline arrives. When the stream's first line
// is a header (the caller's predicate says so, e.g. an AWS S3 file's field names), it
// is remembered and put at the start of every chunk, so later chunks still decode
// with the file's field order.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace flowlier::transport {

class LineChunker {
 public:
  using HeaderTest = std::function<bool(std::string_view line)>;
  // Receives one chunk (whole lines, each ending in '\n').
  using Emit = std::function<void(std::string&& chunk)>;

  LineChunker(std::size_t max_chunk_bytes, HeaderTest is_header);

  // Takes the next bytes; emits every chunk that reached max_chunk_bytes.
  void feed(std::string_view bytes, const Emit& emit);
  // Emits the complete lines buffered so far (the partial last line stays).
  void flush(const Emit& emit);
  // End of the stream: the partial last line counts as a line; everything is emitted.
  void finish(const Emit& emit);
  // A new stream starts (rotation, truncation): forgets the header and partial line.
  void reset();

  // Resuming a stream in its middle (a follow checkpoint): `first_line` (without its
  // '\n') is the stream's first line, already read before; it sets the header as if
  // the stream had been read from its start, and nothing of it is emitted.
  void resume(std::string_view first_line);
  // Bytes taken but not yet emitted (a partial line, whole lines waiting for a flush).
  std::size_t buffered() const { return partial_.size() + pending_.size(); }

  const std::string& header() const { return header_; }

 private:
  void line(std::string_view text, const Emit& emit);

  std::size_t max_chunk_bytes_;
  HeaderTest is_header_;
  bool first_line_ = true;
  std::string header_;   // with its '\n', or empty
  std::string partial_;  // bytes after the last '\n'
  std::string pending_;  // whole lines not yet emitted (header not included)
};

}  // namespace flowlier::transport
