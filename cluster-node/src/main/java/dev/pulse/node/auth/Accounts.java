package dev.pulse.node.auth;

import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.Names;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import scala.concurrent.ExecutionContextExecutor;

/**
 * Sign-in as PROTOCOL.md version 1.1 has it: register, login, logout, tickets, and whether a token
 * may open a socket. The account itself (password hash, revoked tokens, recent wrong passwords) lives
 * in the user's sharded entity, so every node agrees on it and it survives restarts; Argon2id runs
 * here, on a small pool of its own, never on an actor's thread. In {@link Mode#OPEN} a login needs
 * only the name (and the node's shared password when one is set), as in version 1.
 */
public final class Accounts {

    public enum Mode {
        ACCOUNTS, OPEN;

        public static Mode parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "accounts" -> ACCOUNTS;
                case "open" -> OPEN;
                default -> throw new IllegalArgumentException("PULSE_AUTH must be accounts or open, not " + text);
            };
        }
    }

    /** What a sign-in request came to. */
    public sealed interface Outcome {}

    public record SignedIn(TokenService.Token token) implements Outcome {}

    /** Register in open mode: there are no accounts to make. */
    public record NoAccounts() implements Outcome {}

    public record Invalid(String message) implements Outcome {}

    public record WrongPassword() implements Outcome {}

    public record NameTaken() implements Outcome {}

    public record Throttled(long retryAfterMs) implements Outcome {}

    public record Unavailable() implements Outcome {}

    /**
     * How long an admission waits for its user's entity: while a shard's node is lost its messages wait
     * for the failover (≈ 6–8 s, cluster.conf), and a client that reconnects meanwhile is better
     * answered once its entity is back than refused just before and sent elsewhere to wait again.
     */
    static final Duration ADMISSION_TIMEOUT = Duration.ofSeconds(8);
    /**
     * How often the same ask is sent again while unanswered: a shard that hands off (a rolling
     * restart) drops what is sent to it meanwhile, and until a lost node is removed the regions still
     * send its shards' messages there. Sent again, not asked anew: an entity that is only slow (a node
     * busy with a thousand connects) still answers the first, and the wait stays one.
     */
    static final Duration ADMISSION_RESEND = Duration.ofSeconds(1);

    public static final int MIN_PASSWORD = 8;
    public static final int MAX_PASSWORD = 256;

    private final Mode mode;
    private final TokenService tokens;
    private final PasswordHasher hasher;
    private final String sharedPassword;
    private final AddressThrottle addresses;
    private final ClusterSharding sharding;
    private final Duration timeout;
    private final ExecutorService hashing;
    private final ExecutionContextExecutor dispatcher;
    private final Scheduler scheduler;

    public Accounts(ActorSystem<?> system, Mode mode, TokenService tokens, PasswordHasher hasher, String sharedPassword,
                    AddressThrottle addresses, Duration timeout) {
        this.mode = mode;
        this.tokens = tokens;
        this.hasher = hasher;
        this.sharedPassword = sharedPassword;
        this.addresses = addresses;
        this.sharding = ClusterSharding.get(system);
        this.timeout = timeout;
        this.dispatcher = system.executionContext();
        this.scheduler = system.scheduler();
        AtomicInteger threads = new AtomicInteger();
        // Argon2id is memory-hard CPU work: a couple of threads, so a flood of logins queues here
        // instead of taking every core (and 19 MiB per hash in flight).
        this.hashing = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors() / 2), task -> {
            Thread thread = new Thread(task, "pulse-password-hashing-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        system.getWhenTerminated().thenRun(hashing::shutdown);
    }

    public Mode mode() {
        return mode;
    }

    /** A password's length rule, or null when it is fine. */
    static String passwordProblem(String password) {
        int length = password.codePointCount(0, password.length());
        return length < MIN_PASSWORD || length > MAX_PASSWORD
            ? "passwords are " + MIN_PASSWORD + "-" + MAX_PASSWORD + " characters" : null;
    }

    public CompletionStage<Outcome> register(String user, String password) {
        if (mode == Mode.OPEN) {
            return done(new NoAccounts());
        }
        if (!Names.isValidNewUser(user)) {
            return done(new Invalid("a new account's name needs a letter or digit"));
        }
        String problem = password == null ? "a password is required" : passwordProblem(password);
        if (problem != null) {
            return done(new Invalid(problem));
        }
        return CompletableFuture.supplyAsync(() -> hasher.hash(password), hashing)
            .thenCompose(hash -> user(user).<UserEntity.Registration>ask(replyTo -> new UserEntity.Register(hash, replyTo), timeout))
            .<Outcome>thenApply(answer -> answer == UserEntity.Registration.CREATED
                ? new SignedIn(tokens.issue(user)) : new NameTaken())
            .exceptionally(failure -> new Unavailable());
    }

    /** {@code address} is the client's, for the per-address bound on wrong passwords. */
    public CompletionStage<Outcome> login(String user, String password, String address) {
        if (mode == Mode.OPEN) {
            boolean right = sharedPassword.isEmpty() || (password != null && java.security.MessageDigest.isEqual(
                password.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                sharedPassword.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            return done(right ? new SignedIn(tokens.issue(user)) : (Outcome) new WrongPassword());
        }
        if (password == null) {
            return done(new WrongPassword());
        }
        long wait = addresses.retryAfterMs(address, System.currentTimeMillis());
        if (wait > 0) {
            return done(new Throttled(wait));
        }
        EntityRef<UserEntity.Command> entity = user(user);
        return entity.<UserEntity.LoginGate>ask(UserEntity.BeginLogin::new, timeout)
            .<Outcome>thenApplyAsync(gate -> {
                if (gate.retryAfterMs() > 0) {
                    return new Throttled(gate.retryAfterMs());
                }
                // An unknown name (null hash) costs the same hashing as a wrong password.
                if (hasher.verify(password, gate.passwordHash())) {
                    entity.tell(new UserEntity.LoginSucceeded(gate.attempt()));
                    return new SignedIn(tokens.issue(user));
                }
                addresses.failed(address, System.currentTimeMillis());
                return new WrongPassword();
            }, hashing)
            .exceptionally(failure -> new Unavailable());
    }

    /** Whether a socket may open: {@code reason} says why not (for the 401 body). */
    public record Admission(boolean admitted, String reason) {}

    /**
     * Whether a socket may open with this token or ticket (not signed out; a ticket not used before).
     * Sent again while unanswered (see {@link #ADMISSION_RESEND}); the entity answers a repeated ask
     * of the same admission the same, so a ticket is not refused by its own first use.
     */
    public CompletionStage<Admission> admit(TokenService.Credential credential) {
        // A used ticket is remembered longer than any ticket lives.
        long ticketExpires = credential.ticketId() == null ? 0 : System.currentTimeMillis() + 60_000;
        String askId = UUID.randomUUID().toString();
        EntityRef<UserEntity.Command> entity = user(credential.user());
        AtomicReference<Cancellable> resends = new AtomicReference<>();
        return entity.<UserEntity.Admission>ask(replyTo -> {
                UserEntity.Admit admit = new UserEntity.Admit(credential.tokenId(), credential.ticketId(), ticketExpires, askId, replyTo);
                resends.set(scheduler.scheduleAtFixedRate(ADMISSION_RESEND, ADMISSION_RESEND, () -> entity.tell(admit), dispatcher));
                return admit;
            }, ADMISSION_TIMEOUT)
            .whenComplete((answer, failure) -> resends.get().cancel())
            .thenApply(answer -> new Admission(answer.admitted(), answer.reason()));
    }

    /** Logout: true once the token is refused everywhere, false when it already was. */
    public CompletionStage<Boolean> logout(TokenService.Credential credential) {
        return admit(credential).thenCompose(admission -> !admission.admitted() ? done(false)
            : user(credential.user()).<UserEntity.Revoked>ask(replyTo -> new UserEntity.Revoke(credential.tokenId(),
                credential.tokenExpiresAt().toEpochMilli(), replyTo), timeout).thenApply(revoked -> true));
    }

    /** A ticket for a token that is still good, or null when it was signed out. */
    public CompletionStage<TokenService.Ticket> ticket(TokenService.Credential credential) {
        return admit(credential).thenApply(admission -> admission.admitted() ? tokens.issueTicket(credential) : null);
    }

    private EntityRef<UserEntity.Command> user(String user) {
        return sharding.entityRefFor(UserEntity.ENTITY_KEY, user);
    }

    private static <T> CompletionStage<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
