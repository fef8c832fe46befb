package io.idemnet.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IgnLossCurvesTest {
  @TempDir Path dir;

  @Test
  void writesAPngFromLossesCsv() throws IOException {
    Path csv = dir.resolve("losses.csv");
    StringBuilder sb = new StringBuilder("epoch,step,rec_l1,idem_l1,tight_l1\n");
    for (int i = 0; i < 30; i++) sb.append(1 + i / 10).append(',').append(i % 10).append(',').append(1.0 / (i + 1)).append(",0.3,0.2\n");
    Files.writeString(csv, sb);
    Path png = dir.resolve("losses.png");
    IgnLossCurves.write(csv, png, 5);
    BufferedImage img = ImageIO.read(png.toFile());
    assertTrue(img.getWidth() > 100 && img.getHeight() > 100, "image " + img.getWidth() + "x" + img.getHeight());
  }

  @Test
  void malformedCsvIsAClearError() throws IOException {
    Path csv = dir.resolve("bad.csv");
    Files.writeString(csv, "epoch,step,rec_l1,idem_l1,tight_l1\n1,0,0.5,x,0.1\n");
    IOException e = assertThrows(IOException.class, () -> IgnLossCurves.write(csv, dir.resolve("a.png"), 5));
    assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    Files.writeString(csv, "epoch,step,rec_l1,idem_l1,tight_l1\n");
    IOException empty = assertThrows(IOException.class, () -> IgnLossCurves.write(csv, dir.resolve("a.png"), 5));
    assertEquals(csv + " has no loss rows", empty.getMessage());
  }
}
