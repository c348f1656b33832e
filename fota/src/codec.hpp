// Entropy coding of one patch stream (control, diff or extra).
//
// Each stream is stored as a small header plus the compressed bytes:
//   u8 codec | u8 parameter | varint raw size | varint compressed size | data
// The generator tries several codecs/parameter sets per stream and keeps the
// smallest, because the three streams have very different statistics (diff
// is mostly zeros, extra is code, control is small integers).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <vmodem/fota/error.hpp>

#include "byte_io.hpp"

namespace vmodem::fota::detail {

enum class Codec : std::uint8_t {
  kStored = 0,
  kLzma2 = 1,
  kZstd = 2,
  // Same codecs, primed with the (projected) old image as dictionary, so
  // literal new bytes can still refer to old content: this is what
  // `zstd --patch-from` does for a whole file; here only the extra stream
  // needs it.
  kLzma2WithOld = 3,
  kZstdWithOld = 4,
  // Zero runs, literal-run lengths and literal bytes as three inner frames
  // (sparse_codec.hpp): for the mostly-zero diff stream.
  kSparse = 5,
  // Stored bytes behind a 2-byte-shorter header, u8 6 | varint size | bytes
  // (no parameter, no packed size): small patches have several tiny stored
  // streams. Read as kStored. Written into format-2 packages only, so a
  // format-1 package stays readable by appliers that predate it.
  kStoredShort = 6,
};

// One encoder configuration the generator may try on a stream.
struct CodecChoice {
  Codec codec = Codec::kLzma2;
  // LZMA2 literal/position tuning; ignored by other codecs.
  std::uint32_t lc = 3, lp = 0, pb = 2;
  int zstd_level = 22;
  // LZMA2 match length at which the encoder stops looking for a longer one:
  // 273 (the maximum) packs runs best but costs time in proportion.
  std::uint32_t nice_len = 273;
  // Stored results (and kSparse's stored inner frames) as kStoredShort.
  bool short_stored = false;
};

inline bool uses_dictionary(Codec codec) {
  return codec == Codec::kLzma2WithOld || codec == Codec::kZstdWithOld;
}

// Upper bound on what a decoder may be asked to produce (and so allocate
// window memory for): larger declared sizes are refused as a bad package.
inline constexpr std::uint64_t kMaxStreamBytes = 256ull << 20;

// Compresses `raw` with `choice` and returns the full framed stream.
// `dictionary` is used only by the *WithOld codecs; the decoder must be given
// the identical bytes.
Result<Bytes> encode_stream(ByteView raw, const CodecChoice& choice, ByteView dictionary = {});

// Tries every choice in `choices` (plus stored: kStoredShort if
// `short_stored`, else kStored) and returns the smallest frame.
Result<Bytes> encode_stream_best(ByteView raw, std::span<const CodecChoice> choices,
                                 ByteView dictionary = {}, bool short_stored = false);

// The parsed header of a framed stream.
struct StreamFrame {
  Codec codec = Codec::kStored;
  std::uint8_t parameter = 0;
  std::uint64_t raw_size = 0;
  ByteView payload;  // the compressed bytes, a view into the package
};

// Reads one frame from `reader`; fails on truncation or an unknown codec.
// A kStoredShort frame is returned as kStored.
Result<StreamFrame> read_frame(Reader& reader);

// Pull-style decoder over one frame. read() fills `out` completely unless
// the stream ends; decoding more or fewer bytes than raw_size is an error, so
// a decoder never trusts the compressed data to be well-formed.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Writes exactly out.size() bytes or fails (kBadPackage) if the stream
  // cannot provide them.
  virtual Status read(std::span<std::uint8_t> out) = 0;
  // Bytes produced so far.
  virtual std::uint64_t produced() const = 0;
  std::uint64_t raw_size() const { return raw_size_; }

 protected:
  explicit StreamDecoder(std::uint64_t raw_size) : raw_size_(raw_size) {}
  std::uint64_t raw_size_;
};

// A decoder for `frame`; `dictionary` must outlive it when the codec uses one.
Result<std::unique_ptr<StreamDecoder>> make_decoder(const StreamFrame& frame,
                                                    ByteView dictionary = {});

}  // namespace vmodem::fota::detail
