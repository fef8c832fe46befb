package io.idemnet.plot;

import java.awt.Color;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Colours by series name, the same in every figure: "MB" (or a name that starts with the word MB,
 * such as "MB train" or "MB (lr 0.1)") is blue, "OB" likewise orange; every other name is hashed
 * (String.hashCode, which the language fixes) into eight further colours. Within one figure a name
 * whose colour is already taken by another name moves on to the next free colour, so that
 * different names look different as long as there are at most eight of them.
 */
final class Palette {
  private Palette() {}

  static final Color MB = new Color(0x1f77b4);
  static final Color OB = new Color(0xff7f0e);
  private static final Color[] OTHERS = {
      new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b),
      new Color(0xe377c2), new Color(0x17becf), new Color(0xbcbd22), new Color(0x7f7f7f)};

  /** MB or OB for names that start with that word, else null. */
  static Color fixed(String name) {
    String n = name.strip().toUpperCase(Locale.ROOT);
    if (startsWithWord(n, "MB")) return MB;
    if (startsWithWord(n, "OB")) return OB;
    return null;
  }

  private static boolean startsWithWord(String n, String word) {
    return n.startsWith(word) && (n.length() == word.length() || !Character.isLetterOrDigit(n.charAt(word.length())));
  }

  /** Colours for the given names, in order; equal names get equal colours. */
  static List<Color> assign(List<String> names) {
    Map<String, Color> byName = new HashMap<>();
    boolean[] taken = new boolean[OTHERS.length];
    List<Color> out = new ArrayList<>(names.size());
    for (String name : names) {
      Color c = byName.get(name);
      if (c == null) {
        c = fixed(name);
        if (c == null) {
          int start = Math.floorMod(name.hashCode(), OTHERS.length), slot = start;
          for (int k = 0; k < OTHERS.length; k++) {
            int s = (start + k) % OTHERS.length;
            if (!taken[s]) {
              slot = s;
              break;
            }
          }
          taken[slot] = true;
          c = OTHERS[slot];
        }
        byName.put(name, c);
      }
      out.add(c);
    }
    return out;
  }

  static Color withAlpha(Color c, double alpha) {
    return new Color(c.getRed(), c.getGreen(), c.getBlue(), (int) Math.round(255 * alpha));
  }

  /** Viridis (9 stops, linearly interpolated), t in [0, 1]. */
  static Color viridis(double t) {
    if (!(t >= 0)) t = 0;
    if (t > 1) t = 1;
    double p = t * (VIRIDIS.length - 1);
    int i = Math.min((int) p, VIRIDIS.length - 2);
    double f = p - i;
    int a = VIRIDIS[i], b = VIRIDIS[i + 1];
    return new Color(mix(a >> 16, b >> 16, f), mix(a >> 8, b >> 8, f), mix(a, b, f));
  }

  private static int mix(int a, int b, double f) {
    a &= 0xff;
    b &= 0xff;
    return (int) Math.round(a + (b - a) * f);
  }

  private static final int[] VIRIDIS = {
      0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962, 0xaadc32, 0xfde725};
}
