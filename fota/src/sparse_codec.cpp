#include "sparse_codec.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace vmodem::fota::detail {
namespace {

// The three parts of a sparse stream, before entropy coding.
struct SparseParts {
  Bytes zero_runs, literal_lengths, literals;
};

SparseParts split_zero_runs(ByteView raw) {
  SparseParts parts;
  std::size_t pos = 0;
  while (pos < raw.size()) {
    const std::size_t run_start = pos;
    while (pos < raw.size() && raw[pos] == 0)
      ++pos;
    if (pos == raw.size()) break;  // trailing zeros are implied by the raw size
    const std::size_t literal_start = pos;
    while (pos < raw.size() && raw[pos] != 0)
      ++pos;
    put_varint(parts.zero_runs, literal_start - run_start);
    put_varint(parts.literal_lengths, pos - literal_start - 1);
    parts.literals.insert(parts.literals.end(),
                          raw.begin() + static_cast<std::ptrdiff_t>(literal_start),
                          raw.begin() + static_cast<std::ptrdiff_t>(pos));
  }
  return parts;
}

// The parts are small and have little structure left: LZMA with no literal
// context (measured best on firmware diffs), or stored if that is smaller.
Result<Bytes> encode_part(ByteView part, bool short_stored) {
  CodecChoice choice;
  choice.lc = 0;
  choice.pb = 0;
  const std::array<CodecChoice, 1> choices{choice};
  return encode_stream_best(part, choices, {}, short_stored);
}

// Reads LEB128 varints from an inner decoder through a small buffer, so a
// hostile length stream costs bounded memory however long it claims to be.
class VarintSource {
 public:
  explicit VarintSource(std::unique_ptr<StreamDecoder> decoder) : decoder_(std::move(decoder)) {}

  // True once every byte of the stream has been taken.
  bool exhausted() const {
    return next_ == filled_ && decoder_->produced() == decoder_->raw_size();
  }

  // The next varint; an error if the stream ends inside one or it is longer
  // than 10 bytes.
  Result<std::uint64_t> next() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      auto byte = next_byte();
      if (!byte) return tl::unexpected(byte.error());
      value |= std::uint64_t{*byte & 0x7Fu} << shift;
      if ((*byte & 0x80u) == 0) return value;
    }
    return fail(ErrorCode::kBadPackage, "sparse stream: varint too long");
  }

 private:
  Result<std::uint8_t> next_byte() {
    if (next_ == filled_) {
      const std::uint64_t left = decoder_->raw_size() - decoder_->produced();
      if (left == 0) return fail(ErrorCode::kBadPackage, "sparse stream: lengths end early");
      filled_ = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer_.size()));
      if (auto st = decoder_->read(std::span(buffer_).first(filled_)); !st) {
        return tl::unexpected(st.error());
      }
      next_ = 0;
    }
    return buffer_[next_++];
  }

  std::unique_ptr<StreamDecoder> decoder_;
  std::array<std::uint8_t, 4096> buffer_{};
  std::size_t next_ = 0, filled_ = 0;
};

class SparseDecoder final : public StreamDecoder {
 public:
  SparseDecoder(std::uint64_t raw_size, std::unique_ptr<StreamDecoder> zero_runs,
                std::unique_ptr<StreamDecoder> literal_lengths,
                std::unique_ptr<StreamDecoder> literals)
      : StreamDecoder(raw_size),
        zero_runs_(std::move(zero_runs)),
        literal_lengths_(std::move(literal_lengths)),
        literals_(std::move(literals)) {}

  Status read(std::span<std::uint8_t> out) override {
    if (out.size() > raw_size_ - produced_) return fail(ErrorCode::kBadPackage, "stream overrun");
    while (!out.empty()) {
      if (zeros_left_ == 0 && literals_left_ == 0) {
        if (auto st = next_token(); !st) return st;
      }
      std::size_t taken = 0;
      if (zeros_left_ > 0) {
        taken = static_cast<std::size_t>(std::min<std::uint64_t>(zeros_left_, out.size()));
        std::memset(out.data(), 0, taken);
        zeros_left_ -= taken;
      } else {
        taken = static_cast<std::size_t>(std::min<std::uint64_t>(literals_left_, out.size()));
        if (auto st = literals_->read(out.first(taken)); !st) return st;
        literals_left_ -= taken;
      }
      produced_ += taken;
      out = out.subspan(taken);
    }
    if (produced_ == raw_size_) return check_consumed();
    return {};
  }
  std::uint64_t produced() const override { return produced_; }

 private:
  // Loads the next token, or the trailing zeros once the tokens are used up.
  Status next_token() {
    const std::uint64_t room = raw_size_ - produced_;
    if (zero_runs_.exhausted()) {
      zeros_left_ = room;
      return {};
    }
    auto zeros = zero_runs_.next();
    if (!zeros) return tl::unexpected(zeros.error());
    auto literals = literal_lengths_.next();
    if (!literals) return tl::unexpected(literals.error());
    // Written so that no sum can wrap: each part is checked against what is left.
    if (*zeros > room || *literals >= room - *zeros) {
      return fail(ErrorCode::kBadPackage, "sparse stream: a run overruns the stream");
    }
    zeros_left_ = *zeros;
    literals_left_ = *literals + 1;
    return {};
  }

  // At the end every part must have been used exactly.
  Status check_consumed() const {
    if (!zero_runs_.exhausted() || !literal_lengths_.exhausted() ||
        literals_->produced() != literals_->raw_size()) {
      return fail(ErrorCode::kBadPackage, "sparse stream: parts left over");
    }
    return {};
  }

  VarintSource zero_runs_, literal_lengths_;
  std::unique_ptr<StreamDecoder> literals_;
  std::uint64_t zeros_left_ = 0, literals_left_ = 0, produced_ = 0;
};

Result<std::unique_ptr<StreamDecoder>> open_part(Reader& reader, std::uint64_t max_raw) {
  auto frame = read_frame(reader);
  if (!frame) return tl::unexpected(frame.error());
  if (frame->codec == Codec::kSparse || uses_dictionary(frame->codec)) {
    return fail(ErrorCode::kBadPackage, "sparse stream: a part may not be sparse or primed");
  }
  if (frame->raw_size > max_raw) return fail(ErrorCode::kBadPackage, "sparse stream: part too big");
  return make_decoder(*frame);
}

}  // namespace

Result<Bytes> sparse_compress(ByteView raw, bool short_stored) {
  const SparseParts parts = split_zero_runs(raw);
  Bytes payload;
  for (const Bytes* part : {&parts.zero_runs, &parts.literal_lengths, &parts.literals}) {
    auto framed = encode_part(*part, short_stored);
    if (!framed) return framed;
    put_bytes(payload, *framed);
  }
  return payload;
}

Result<std::unique_ptr<StreamDecoder>> make_sparse_decoder(const StreamFrame& frame) {
  Reader reader(frame.payload);
  // A token is at most two 10-byte varints and yields at least one byte.
  const std::uint64_t max_lengths = 10 * frame.raw_size;
  auto zero_runs = open_part(reader, max_lengths);
  if (!zero_runs) return tl::unexpected(zero_runs.error());
  auto literal_lengths = open_part(reader, max_lengths);
  if (!literal_lengths) return tl::unexpected(literal_lengths.error());
  auto literals = open_part(reader, frame.raw_size);
  if (!literals) return tl::unexpected(literals.error());
  if (reader.remaining() != 0) return fail(ErrorCode::kBadPackage, "sparse stream: trailing bytes");
  return std::make_unique<SparseDecoder>(frame.raw_size, std::move(*zero_runs),
                                         std::move(*literal_lengths), std::move(*literals));
}

}  // namespace vmodem::fota::detail
