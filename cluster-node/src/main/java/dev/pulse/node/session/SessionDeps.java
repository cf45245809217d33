package dev.pulse.node.session;

import dev.pulse.node.delivery.LocalRooms;
import dev.pulse.node.metrics.ClientMetrics;
import dev.pulse.protocol.FrameCodec;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/** What every session on a node shares. {@code node} is the node's cluster address, host:port. */
public record SessionDeps(ClusterSharding sharding, ActorRef<LocalRooms.Command> localRooms, SendRateLimiter rateLimiter,
                          FrameCodec codec, Duration heartbeat, Duration entityTimeout, String node,
                          ClientMetrics metrics, int historyPageBytes, int maxRoomsPerSession,
                          int maxSocketsPerUser) {}
