package io.idemnet.ign;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.nn.ActivationLayer;
import io.idemnet.nn.BatchNorm2d;
import io.idemnet.nn.Conv2d;
import io.idemnet.nn.ConvTranspose2d;
import io.idemnet.nn.Dropout;
import io.idemnet.nn.Module;
import io.idemnet.nn.Sequential;
import java.util.ArrayList;
import java.util.List;

/** The U-Net-free DCGAN-style networks used for Idempotent Generative Networks. */
public final class IgnNetworks {
  private IgnNetworks() {}

  /**
   * The 28x28 network of Table 2 (Jensen & Vicary, after Shocher et al.), shapes for a 1x28x28 input:
   * encoder Conv 4x4/2 64 (14x14), Conv 4x4/2 128 + BN (7x7), Conv 3x3/2 256 + BN (3x3),
   * Conv 3x3 512 + BN (1x1), Conv 3x3 pad 1 512 (the 512x1x1 latent), each followed by
   * LeakyReLU(0.2) and Dropout(0.05) but the last; decoder ConvT 3x3 256 (3x3), ConvT 3x3/2 128
   * (7x7), ConvT 3x3 pad 1 64 (7x7), ConvT 4x4/2 32 (14x14), each + BN + ReLU, then ConvT 4x4/2 1
   * (28x28) + Tanh. {@code width} scales every channel count (1 = the paper's).
   */
  public static Sequential mnist(Backend be, int channels, float width, long seed) {
    int c64 = w(64, width), c128 = w(128, width), c256 = w(256, width), c512 = w(512, width), c32 = w(32, width);
    List<Module> m = new ArrayList<>();
    long s = seed;
    m.add(new Conv2d(be, channels, c64, 4, 2, 1, true, s++));
    encoderTail(m, null, seed + 100);
    m.add(new Conv2d(be, c64, c128, 4, 2, 1, true, s++));
    encoderTail(m, new BatchNorm2d(be, c128), seed + 101);
    m.add(new Conv2d(be, c128, c256, 3, 2, 0, true, s++));
    encoderTail(m, new BatchNorm2d(be, c256), seed + 102);
    m.add(new Conv2d(be, c256, c512, 3, 1, 0, true, s++));
    encoderTail(m, new BatchNorm2d(be, c512), seed + 103);
    m.add(new Conv2d(be, c512, c512, 3, 1, 1, true, s++));
    m.add(new ConvTranspose2d(be, c512, c256, 3, 1, 0, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c256));
    m.add(new ConvTranspose2d(be, c256, c128, 3, 2, 0, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c128));
    m.add(new ConvTranspose2d(be, c128, c64, 3, 1, 1, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c64));
    m.add(new ConvTranspose2d(be, c64, c32, 4, 2, 1, 0, true, s++));
    decoderTail(m, new BatchNorm2d(be, c32));
    m.add(new ConvTranspose2d(be, c32, channels, 4, 2, 1, 0, true, s));
    m.add(new ActivationLayer(Activation.TANH));
    return new Sequential(m);
  }

  private static int w(int c, float width) {
    return Math.max(1, Math.round(c * width));
  }

  private static void encoderTail(List<Module> m, BatchNorm2d bn, long dropoutSeed) {
    if (bn != null) m.add(bn);
    m.add(new ActivationLayer(Activation.leakyRelu(0.2f)));
    m.add(new Dropout(0.05f, dropoutSeed));
  }

  private static void decoderTail(List<Module> m, BatchNorm2d bn) {
    m.add(bn);
    m.add(new ActivationLayer(Activation.RELU));
  }
}
