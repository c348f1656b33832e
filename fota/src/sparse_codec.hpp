// The zero-run codec (Codec::kSparse) for streams that are mostly zeros —
// the diff stream, which is zero wherever a matched (or projected) old byte
// was right.
//
// LZMA spends most of its time on such a stream in its match finder, which
// compares up to nice_len bytes at every position of a zero run (≈ 160 ms for
// a 400 KB diff), and codes each 273-byte run as one match. Splitting the
// stream into what it is made of — how long each zero run is, how long each
// run of non-zero bytes is, and those bytes — leaves three small streams that
// LZMA codes in a millisecond and, on firmware, about 10% smaller.
//
// Payload (inside the outer frame, see codec.hpp):
//   frame zero-run lengths | frame literal lengths | frame literal bytes
// Each inner frame is an ordinary frame (stored, LZMA2 or zstd; no
// dictionary, not itself sparse). The first two hold one LEB128 varint per
// token: token i is `zero_runs[i]` zeros, then `literal_lengths[i] + 1` bytes
// taken from the literal stream. Whatever the tokens leave of the outer raw
// size is zeros. A decoder refuses tokens that overrun the raw size, a token
// count that differs between the two length streams, and literal bytes left
// over at the end.
#pragma once

#include <memory>

#include <vmodem/fota/error.hpp>

#include "byte_io.hpp"
#include "codec.hpp"

namespace vmodem::fota::detail {

// The payload of a kSparse frame for `raw` (not the frame itself); stored
// inner frames as kStoredShort if `short_stored`.
Result<Bytes> sparse_compress(ByteView raw, bool short_stored = false);

// A decoder for a kSparse frame; errors (kBadPackage) if the payload is not
// three well-formed inner frames.
Result<std::unique_ptr<StreamDecoder>> make_sparse_decoder(const StreamFrame& frame);

}  // namespace vmodem::fota::detail
