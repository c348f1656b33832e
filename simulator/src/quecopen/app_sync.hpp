// The EC2x QuecOpen application sync (seed 001): at every boot, after the
// kernel attached and mounted `system` (/) and `usr_data` (/usrdata), the
// application tree and its version tag are compared between the two and the
// side with the higher version is copied over the other.
//
//   a missing tag file counts as version -1; equal versions: nothing to do;
//   otherwise, from the higher side to the lower: remove the old tree and
//   tag, make the directory, copy the tree, sync, copy the tag, sync.
//
// Every step is a real file-system operation through each side's page cache
// (fs::WriteBack), so a power cut can strike any NAND operation of it, and
// what reached NAND is what sync (or the seeded flusher) wrote back.
//
// A tag that is not a number is what the reference script meets after a cut
// between copying the tag and the last sync (the file exists, its data never
// reached NAND): `[ "" -eq 2 ]` fails, neither branch runs, and the backup
// is never refreshed again. sync_apps does the same (outcome unparsable),
// which is the point: a campaign finds that window. TagWrite::atomic closes
// it (the tag is written to a temporary file, synced, then renamed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <vmodem/fs/filesystem.hpp>
#include <vmodem/fs/write_back.hpp>

namespace vmodem::sim::quecopen {

// One side: a file system, its page cache, and the paths inside it.
struct AppSide {
  fs::FileSystem* fs = nullptr;
  fs::WriteBack* cache = nullptr;  // over *fs
  std::string apps;                // the application directory
  std::string tag;                 // the version tag file
};

enum class TagWrite : std::uint8_t {
  reference,      // cp -r tree, sync, cp tag, sync (the seed's script)
  atomic,         // ... sync, the tag to a temporary file, fsync, rename over the tag, sync
  unsynced_tree,  // cp -r tree, cp tag, sync: what the seed's note 1 warns against
};

enum class SyncOutcome : std::uint8_t {
  in_step,         // equal versions: nothing copied
  to_backup,       // system's tree copied over usr_data's
  to_system,       // usr_data's tree copied over system's
  unparsable_tag,  // a tag is not a number: nothing copied (the script errs)
};
const char* to_string(SyncOutcome outcome);

struct AppSyncReport {
  SyncOutcome outcome = SyncOutcome::in_step;
  std::int64_t system_version = -1;  // -1: no tag (or unparsable)
  std::int64_t backup_version = -1;
  std::uint64_t files = 0;  // copied
  std::uint64_t bytes = 0;
};

// A tag's version: -1 when the file does not exist, nullopt when it is not
// a (possibly signed) decimal number once surrounding whitespace is trimmed.
fs::Result<std::optional<std::int64_t>> read_version(AppSide& side);

// Runs the sync. Errors are the file systems' (power_loss: stop, the caller
// drops to OFF); nothing is retried.
fs::Result<AppSyncReport> sync_apps(AppSide& system, AppSide& backup,
                                    TagWrite tag_write = TagWrite::reference);

}  // namespace vmodem::sim::quecopen
