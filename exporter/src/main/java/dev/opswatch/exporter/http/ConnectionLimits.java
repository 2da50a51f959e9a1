package dev.opswatch.exporter.http;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * Open connections in total and per client address. A client that opens many connections (slow
 * or not) uses up its own address's share and no one else's.
 */
final class ConnectionLimits {
  private final int max;
  private final int perAddress;
  private final Map<InetAddress, Integer> open = new HashMap<>();
  private int total;

  ConnectionLimits(int max, int perAddress) {
    this.max = max;
    this.perAddress = perAddress;
  }

  /** Takes a slot for {@code address}; false when the total or the address's limit is reached. */
  synchronized boolean acquire(InetAddress address) {
    int mine = open.getOrDefault(address, 0);
    if (total >= max || mine >= perAddress) {
      return false;
    }
    open.put(address, mine + 1);
    total++;
    return true;
  }

  synchronized void release(InetAddress address) {
    int mine = open.getOrDefault(address, 0);
    if (mine <= 1) {
      open.remove(address);
    } else {
      open.put(address, mine - 1);
    }
    total = Math.max(0, total - 1);
  }

  synchronized int open(InetAddress address) {
    return open.getOrDefault(address, 0);
  }

  synchronized int total() {
    return total;
  }
}
