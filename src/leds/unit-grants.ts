/**
 * The systemd drop-in that lets the sandboxed daemon write exactly the LEDs its board profile names.
 * The unit keeps /sys read-only (ProtectKernelTunables=yes); sysfs LEDs need their `brightness` and
 * `trigger` files writable, which `ReadWritePaths=` grants per LED directory, resolved from the
 * /sys/class/leds symlink to the device's real directory (the bind mount must name a real path).
 * SPI, GPIO and input devices need no grant: they are in /dev, reached through DeviceAllow= and groups.
 */
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedsProfile } from './board.js';
import { SYSFS_LEDS_ROOT } from './drivers/sysfs.js';

/** Where the drop-in belongs. */
export const GRANTS_DROP_IN = '/etc/systemd/system/speakerd.service.d/leds.conf';

/** The LED class names a profile uses. */
function ledNames(leds: LedsProfile): string[] {
  if (leds.driver !== 'sysfs') return [];
  return leds.leds.flatMap((l) => ('name' in l ? [l.name] : [l.red, l.green, l.blue]));
}

/**
 * The drop-in's text for `profile` (its name for the comment), with every LED directory resolved under
 * `root` (default /sys/class/leds). A missing LED is an error naming it: a grant for nothing would hide
 * a wrong profile until the first write.
 */
export async function unitGrants(boardName: string, leds: LedsProfile | null, root = SYSFS_LEDS_ROOT): Promise<string> {
  const names = leds ? ledNames(leds) : [];
  const head = `# ${GRANTS_DROP_IN}: written by speakerd --unit-grants for the board '${boardName}'.\n`;
  if (names.length === 0) return `${head}# Its LEDs (${leds?.driver ?? 'none'}) need no write access to /sys.\n`;
  const dirs: string[] = [];
  for (const name of names) {
    try {
      dirs.push(await realpath(join(root, name)));
    } catch (error) {
      throw Object.assign(new Error(`leds.board: the LED '${name}' is not in ${root} (${(error as NodeJS.ErrnoException).code ?? 'unknown'})`), {
        code: 'ERR_BOARD_PROFILE',
      });
    }
  }
  return `${head}# Write access to exactly these LEDs' brightness and trigger files.\n[Service]\n${[...new Set(dirs)].map((d) => `ReadWritePaths=${d}`).join('\n')}\n`;
}
