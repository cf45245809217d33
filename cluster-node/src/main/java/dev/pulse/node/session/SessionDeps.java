package dev.pulse.node.session;

import dev.pulse.node.delivery.LocalRooms;
import dev.pulse.node.metrics.ClientMetrics;
import dev.pulse.protocol.FrameCodec;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * What every session on a node shares. {@code node} is the node's cluster address, host:port.
 * {@code rateLimiter} counts sends, {@code requestLimiter} history, presence, join, read and directory requests, and
 * {@code typingLimiter} typing notices, each per user. With {@code refuseDmLookalikes} (accounts mode)
 * no public room whose name starts with {@code dm} is joined or written to. {@code directory} answers
 * {@code directory} frames, {@code search} {@code search} frames.
 */
public record SessionDeps(ClusterSharding sharding, ActorRef<LocalRooms.Command> localRooms, UserRateLimiter rateLimiter,
                          UserRateLimiter requestLimiter, UserRateLimiter typingLimiter,
                          FrameCodec codec, Duration heartbeat, Duration entityTimeout, String node,
                          ClientMetrics metrics, int historyPageBytes, int maxRoomsPerSession,
                          int maxSocketsPerUser, boolean refuseDmLookalikes, RoomDirectory directory,
                          MessageSearch search) {}
