package org.tfport.cli;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryNotificationInfo;
import java.lang.management.MemoryPoolMXBean;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * Bounds the serial collector's old generation while a model runs. That collector promotes what a
 * young collection finds alive into the old generation and, when it lacks room, grows it rather
 * than collecting it: a full collection comes only at the heap's maximum (a quarter of the RAM).
 * Values a run allocates outside the session's arena (the integer kernels' byte tensors, every
 * value of a plan that cannot recycle) are alive whenever a young collection falls inside the run,
 * so each such collection left a few of them in the old generation for good: quantized MobileNetV2
 * 224 once grew the heap to 2 GB over 350 runs (other runs of it stayed near 60 MB; with a 2 MB
 * young generation it reached 862 MB every time). Here a full collection runs once the old
 * generation holds twice what was live after the last one (at least {@value #MIN_HEADROOM} bytes
 * more), and the heap's free-ratio options then shrink it back. It trades time for memory only
 * where runs promote much: with 1.5 times (2 MB young generation) that model's peak RSS was 172 MB
 * instead of 931 MB, but its median run 208 ms instead of 33 (116 full collections).
 *
 * <p>In the command line only: a library that collects in its caller's JVM would be unwelcome.
 */
final class OldGenerationGuard {
  private OldGenerationGuard() {}

  /**
   * Headroom even when little is live: the buffers a session's arena keeps from its first run on
   * are no garbage (18 MB for MobileNetV2 224 over the 13 MB live after loading it; with 16 MB the
   * guard collected once, for nothing, and left 3 MB more in the heap).
   */
  static final long MIN_HEADROOM = 32L << 20;

  private static boolean installed;

  /**
   * Installs the guard on the serial collector's old generation ("Tenured Gen"), once; nothing
   * under another collector, whose old generation is collected without it.
   */
  static synchronized void install() {
    if (installed) {
      return;
    }
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getName().equals("Tenured Gen") && pool.isUsageThresholdSupported()) {
        installed = true;
        arm(pool);
        NotificationEmitter emitter = (NotificationEmitter) ManagementFactory.getMemoryMXBean();
        emitter.addNotificationListener(
            (notification, handback) -> {
              MemoryNotificationInfo info =
                  MemoryNotificationInfo.from((CompositeData) notification.getUserData());
              if (info.getPoolName().equals(pool.getName())) {
                System.gc();
                arm(pool);
              }
            },
            n -> n.getType().equals(MemoryNotificationInfo.MEMORY_THRESHOLD_EXCEEDED),
            null);
        return;
      }
    }
  }

  /** Sets the threshold from what the old generation holds now (just after a full collection). */
  private static void arm(MemoryPoolMXBean pool) {
    long used = pool.getUsage().getUsed();
    pool.setUsageThreshold(used + Math.max(used, MIN_HEADROOM));
  }
}
