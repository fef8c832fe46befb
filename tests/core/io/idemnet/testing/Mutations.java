package io.idemnet.testing;

import java.util.Arrays;
import java.util.Random;

/**
 * Seeded random damage to a valid file's bytes, for the file readers' fuzz tests: bit flips,
 * overwritten, inserted, deleted and duplicated bytes, truncation, appended garbage, and 32-bit
 * fields (little- and big-endian) set to extreme values, where length and dimension fields live.
 * The same seed gives the same mutations.
 */
public final class Mutations {
  private static final int[] EXTREMES = {0, 1, -1, 0x7fffffff, 0x80000000, 0x7ffffff8, 0xffff, 0x10000, 255, 256};

  private final Random rnd;

  public Mutations(long seed) {
    this.rnd = new Random(seed);
  }

  /** One to three mutations of {@code valid}, which is left as it was. */
  public byte[] mutate(byte[] valid) {
    byte[] b = valid.clone();
    kinds.clear();
    int count = 1 + rnd.nextInt(3);
    for (int i = 0; i < count; i++) b = once(b);
    return b;
  }

  /** The kinds of the last {@link #mutate}'s mutations, for failure messages. */
  public String lastKinds() {
    return String.join(",", kinds);
  }

  private final java.util.List<String> kinds = new java.util.ArrayList<>();

  private byte[] once(byte[] b) {
    int n = b.length;
    int kind = n == 0 ? 5 : rnd.nextInt(9);
    switch (kind) {
      case 0 -> { // flip 1..8 bits
        kinds.add("bitflip");
        for (int k = 1 + rnd.nextInt(8); k > 0; k--) b[rnd.nextInt(n)] ^= (byte) (1 << rnd.nextInt(8));
        return b;
      }
      case 1 -> { // overwrite a few bytes with random ones
        kinds.add("overwrite");
        int at = rnd.nextInt(n), len = Math.min(n - at, 1 + rnd.nextInt(8));
        for (int k = 0; k < len; k++) b[at + k] = (byte) rnd.nextInt(256);
        return b;
      }
      case 2 -> { // insert random bytes
        kinds.add("insert");
        int at = rnd.nextInt(n + 1), len = 1 + rnd.nextInt(16);
        byte[] out = new byte[n + len];
        System.arraycopy(b, 0, out, 0, at);
        for (int k = 0; k < len; k++) out[at + k] = (byte) rnd.nextInt(256);
        System.arraycopy(b, at, out, at + len, n - at);
        return out;
      }
      case 3 -> { // delete a range
        kinds.add("delete");
        int at = rnd.nextInt(n), len = Math.min(n - at, 1 + rnd.nextInt(32));
        byte[] out = new byte[n - len];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, at + len, out, at, n - at - len);
        return out;
      }
      case 4 -> { // truncate
        kinds.add("truncate");
        return Arrays.copyOf(b, rnd.nextInt(n));
      }
      case 5 -> { // append garbage
        kinds.add("append");
        int len = 1 + rnd.nextInt(32);
        byte[] out = Arrays.copyOf(b, n + len);
        for (int k = n; k < out.length; k++) out[k] = (byte) rnd.nextInt(256);
        return out;
      }
      case 6 -> { // duplicate a range in place after itself
        kinds.add("duplicate");
        int at = rnd.nextInt(n), len = Math.min(n - at, 1 + rnd.nextInt(64));
        byte[] out = new byte[n + len];
        System.arraycopy(b, 0, out, 0, at + len);
        System.arraycopy(b, at, out, at + len, n - at);
        return out;
      }
      default -> { // a 32-bit field, big- or little-endian, set to an extreme value
        kinds.add("field");
        if (n < 4) return b;
        int at = rnd.nextInt(n - 3), v = EXTREMES[rnd.nextInt(EXTREMES.length)];
        boolean big = rnd.nextBoolean();
        for (int k = 0; k < 4; k++) b[at + k] = (byte) (v >>> (big ? 24 - 8 * k : 8 * k));
        return b;
      }
    }
  }
}
