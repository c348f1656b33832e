// File-system backup and restore: AT+QPRTPARA (BG95/BG77/BG600L, SPEC §4).
//   =1 / =11   back up the modem / AP file system now
//   =3 / =13   force a restore of it at the next boot
//   =4 / =14   its backup and restore counters
// The AP forms need APP RDY, the modem forms RDY. A gate tag is per command,
// not per argument, so the command is gated on RDY and the handler refuses
// the AP forms until APP RDY.
#include <mutex>
#include <string>

#include <boost/asio/post.hpp>

#include <vmodem/simulator/gate.hpp>

#include "commands/command_set.hpp"

namespace vmodem::sim {

namespace {

std::string join(const std::vector<std::uint32_t>& fields) {
  std::string out;
  for (const auto f : fields) {
    if (!out.empty()) out += ',';
    out += std::to_string(f);
  }
  return out;
}

// Live figures of a mounted file system: page_cnt and its bad blocks.
struct Live {
  std::uint32_t pages = 0, bad_blocks = 0;
};

std::optional<Live> live_figures(fs::SharedFileSystem* fs) {
  if (!fs) return std::nullopt;
  auto st = fs->lock()->statfs();
  if (!st) return std::nullopt;
  return Live{st->pages_in_use, st->bad_blocks};
}

// The engine's bad-block counts are refreshed before they are reported: a
// block may have gone bad since the last record.
fs::BackupInfo fresh_info(fs::BackupEngine* engine) {
  if (!engine) return {};
  // A failed refresh reports the last counts (a power cut takes the module
  // down on its own).
  (void)engine->refresh_bad_blocks();
  return engine->info();
}

fs::Status backup_now(fs::BackupEngine& engine, fs::SharedFileSystem& shared) {
  const auto fs = shared.lock();
  // The backup takes the committed state: commit what the host wrote.
  if (auto synced = fs->sync(); !synced) return synced;
  // no_space leaves the old backup; a power cut takes the module down.
  return engine.backup(*fs);
}

// A failed =1/=3/=11/=13: ERROR, unless the power went during it: a module
// that lost power says nothing more (its port goes away with the power-off).
void failed(at::Call& call, const fs::Error& error) {
  if (error.code == fs::Errc::power_loss) {
    call.responder.abandon();
    return;
  }
  call.responder.error();
}

// What AT+QPRTPARA touches.
struct BackupParts {
  const BackupConfig& config;
  PowerControl& power;
  FileSystems& file_systems;
};

void qprtpara(const BackupParts& m, at::Call& call) {
  if (call.command.args.size() != 1) return void(call.responder.error());
  const auto n = call.command.arg(0).as_integer();
  if (!n) return void(call.responder.error());
  const bool ap = *n >= 11;
  const int op = static_cast<int>(ap ? *n - 10 : *n);
  if ((*n != 1 && *n != 3 && *n != 4 && *n != 11 && *n != 13 && *n != 14)) {
    return void(call.responder.error());
  }
  if (ap && m.power.power_state() != PowerState::app_rdy) return void(call.responder.error());
  const FsRole role = ap ? FsRole::ap : FsRole::modem;
  fs::BackupEngine* engine = m.file_systems.backup_engine(role);
  fs::SharedFileSystem* fs = m.file_systems.file_system(role);
  if (!engine || !fs) return void(call.responder.error());
  switch (op) {
    case 1:
      if (auto ok = backup_now(*engine, *fs); !ok) return failed(call, ok.error());
      break;
    case 3:
      if (auto ok = engine->schedule_restore(); !ok) return failed(call, ok.error());
      break;
    case 4: {
      const auto live = live_figures(fs);
      if (!live) return void(call.responder.error());
      const auto info = fresh_info(engine);
      std::vector<std::uint32_t> fields;
      if (!ap) {
        // <backup_cnt>,<restore_cnt>,<page_cnt>,<p1>..<p10>,<bad_block>[,0]
        fields = {info.backup_count, info.restore_count, live->pages};
        fields.insert(fields.end(), info.probe_counts.begin(), info.probe_counts.end());
        fields.push_back(live->bad_blocks);
        // The document's example prints a 15th field, meaning unknown: 0.
        if (m.config.qprtpara4_fields == 15) fields.push_back(0);
      } else {
        // <backup_valid>,<backup_cnt>,<restore_cnt>,<p1>..<p10>,<page_cnt>,
        // <bad_blk_cnt>,<MFS_data_bad>,<MFS_info_bad>,<AFS_data_bad>,<AFS_info_bad>
        const auto modem = fresh_info(m.file_systems.backup_engine(FsRole::modem));
        const auto bad = fs::bad_block_report(modem, info);
        fields = {info.valid ? 1U : 0U, info.backup_count, info.restore_count};
        fields.insert(fields.end(), info.probe_counts.begin(), info.probe_counts.end());
        fields.insert(fields.end(), {live->pages, bad.total(), bad.mfs_data, bad.mfs_info,
                                     bad.afs_data, bad.afs_info});
      }
      call.responder.info("+QPRTPARA: " + join(fields));
      break;
    }
    default:
      return void(call.responder.error());
  }
  call.responder.ok();
}

}  // namespace

void register_backup_commands(at::Registry& registry, const BackupConfig& config,
                              PowerControl& power, FileSystems& file_systems) {
  at::CommandSpec spec;
  spec.gate_tag = kNeedsRdy;
  spec.write = [m = BackupParts{config, power, file_systems}](at::Call& call) {
    qprtpara(m, call);
  };
  // The document defines no test, read or execute form: ERROR.
  (void)registry.add("+QPRTPARA", std::move(spec));
}

}  // namespace vmodem::sim
