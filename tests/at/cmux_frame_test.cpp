// The 27.010 basic option codec: the bytes on the wire, the FCS of Annex B,
// and what a receiver does with damaged or split input.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vmodem/at/cmux_frame.hpp>

#include "cmux_helpers.hpp"

namespace vmodem::at::testing {
namespace {

using cmux::Frame;
using cmux::FrameType;

std::vector<std::uint8_t> wire(std::initializer_list<int> bytes) {
  std::vector<std::uint8_t> out;
  for (const int b : bytes)
    out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

// The frames every 27.010 application note quotes: SABM and UA on DLC 0,
// DISC on DLC 0, SABM and UA on DLC 1.
TEST(CmuxFrameTest, EncodesTheWellKnownFramesOfTheSpec) {
  EXPECT_EQ(cmux::encode({.dlci = 0, .cr = true, .type = FrameType::kSabm, .pf = true, .info = {}}),
            wire({0xF9, 0x03, 0x3F, 0x01, 0x1C, 0xF9}));
  EXPECT_EQ(cmux::encode({.dlci = 0, .cr = true, .type = FrameType::kUa, .pf = true, .info = {}}),
            wire({0xF9, 0x03, 0x73, 0x01, 0xD7, 0xF9}));
  EXPECT_EQ(cmux::encode({.dlci = 0, .cr = true, .type = FrameType::kDisc, .pf = true, .info = {}}),
            wire({0xF9, 0x03, 0x53, 0x01, 0xFD, 0xF9}));
  EXPECT_EQ(cmux::encode({.dlci = 1, .cr = true, .type = FrameType::kSabm, .pf = true, .info = {}}),
            wire({0xF9, 0x07, 0x3F, 0x01, 0xDE, 0xF9}));
  EXPECT_EQ(cmux::encode({.dlci = 1, .cr = true, .type = FrameType::kUa, .pf = true, .info = {}}),
            wire({0xF9, 0x07, 0x73, 0x01, 0x15, 0xF9}));
}

TEST(CmuxFrameTest, FcsChecksAsAnnexBSays) {
  const auto header = wire({0x03, 0x3F, 0x01});
  EXPECT_EQ(cmux::fcs(header), 0x1C);
  EXPECT_TRUE(cmux::fcs_ok(header, 0x1C));
  EXPECT_FALSE(cmux::fcs_ok(header, 0x1D));
}

TEST(CmuxFrameTest, UihFcsCoversTheHeaderOnlyUiCoversTheInformation) {
  // "AT\r" on DLC 1 as UIH: the FCS is that of 05 EF 07 whatever the info.
  const auto uih = cmux::encode(
      {.dlci = 1, .cr = false, .type = FrameType::kUih, .pf = false, .info = {'A', 'T', '\r'}});
  EXPECT_EQ(uih, wire({0xF9, 0x05, 0xEF, 0x07, 'A', 'T', '\r', cmux::fcs(wire({0x05, 0xEF, 0x07})),
                       0xF9}));
  const auto ui = cmux::encode(
      {.dlci = 1, .cr = false, .type = FrameType::kUi, .pf = false, .info = {'A', 'T', '\r'}});
  EXPECT_EQ(ui.at(7), cmux::fcs(wire({0x05, 0x03, 0x07, 'A', 'T', '\r'})));

  // A receiver therefore takes a UIH whose information changed, and drops
  // such a UI.
  auto bent_uih = uih;
  bent_uih.at(4) = 'B';
  auto bent_ui = ui;
  bent_ui.at(4) = 'B';
  FrameReader reader;
  const auto frames = reader.read(bytes_of(bent_uih) + bytes_of(bent_ui));
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].type, FrameType::kUih);
  EXPECT_EQ(reader.decoder().stats().fcs_errors, 1U);
}

TEST(CmuxFrameTest, RoundTripsLongFramesWithTwoLengthOctets) {
  Frame frame{.dlci = 3, .cr = false, .type = FrameType::kUih, .pf = false, .info = {}};
  for (int i = 0; i < 300; ++i)
    frame.info.push_back(static_cast<std::uint8_t>(i));  // flags inside: no transparency needed
  const auto bytes = cmux::encode(frame);
  EXPECT_EQ(bytes.at(3), (300 & 0x7F) << 1);  // EA clear: a second octet follows
  EXPECT_EQ(bytes.at(4), 300 >> 7);
  FrameReader reader;
  const auto frames = reader.read(bytes_of(bytes));
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0], frame);
}

TEST(CmuxFrameTest, ABadFcsDropsTheFrameCountsItAndTheNextOneStillArrives) {
  auto bad =
      cmux::encode({.dlci = 1, .cr = true, .type = FrameType::kSabm, .pf = true, .info = {}});
  bad.at(4) ^= 0x01;
  FrameReader reader;
  const auto frames = reader.read(bytes_of(bad) + sabm(2));
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].dlci, 2);
  EXPECT_EQ(reader.decoder().stats().fcs_errors, 1U);
}

TEST(CmuxFrameTest, FramesSplitAcrossReadsAreReassembled) {
  const std::string stream = uih(1, "AT+CSQ\r") + sabm(2) + uih(2, std::string(100, 'x'));
  FrameReader reader;
  std::vector<Frame> frames;
  for (const char byte : stream) {
    for (auto& frame : reader.read(std::string(1, byte)))
      frames.push_back(std::move(frame));
  }
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_EQ(payload(frames, 1), "AT+CSQ\r");
  EXPECT_EQ(frames[1].type, FrameType::kSabm);
  EXPECT_EQ(payload(frames, 2), std::string(100, 'x'));
}

TEST(CmuxFrameTest, GarbageBetweenFramesIsSkipped) {
  // Line noise, a stray AT command, a frame cut short, shared and repeated
  // flags.
  const std::string stream = std::string("\x00\x55garbage AT\r\n", 14) + sabm(1) + "AB" +
                             "\xF9\xF9" + uih(1, "ok") + std::string("\xF9\x07", 2) + uih(2, "two");
  FrameReader reader;
  const auto frames = reader.read(stream);
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_EQ(frames[0].type, FrameType::kSabm);
  EXPECT_EQ(payload(frames, 1), "ok");
  EXPECT_EQ(payload(frames, 2), "two");
  EXPECT_GT(reader.decoder().stats().bytes_skipped, 0U);
}

TEST(CmuxFrameTest, InformationLongerThanN1IsDropped) {
  FrameReader reader(31);
  const auto frames = reader.read(uih(1, std::string(32, 'x')) + uih(1, std::string(31, 'y')));
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(payload(frames, 1), std::string(31, 'y'));
  EXPECT_EQ(reader.decoder().stats().too_long, 1U);
}

}  // namespace
}  // namespace vmodem::at::testing
