package dev.pulse.node.room;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.stream.javadsl.Sink;

/** Reads committed events straight from the journal, for pages older than a room's window (as posted: not folded). */
public final class HistoryReader {

    private final CurrentEventsByPersistenceIdQuery journal;
    private final ActorSystem<?> system;

    public HistoryReader(ActorSystem<?> system, CurrentEventsByPersistenceIdQuery journal) {
        this.system = system;
        this.journal = journal;
    }

    /** The reader of the node's JDBC journal. */
    public static HistoryReader jdbc(ActorSystem<?> system) {
        return new HistoryReader(system,
            PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier()));
    }

    /** Events with seq {@code from..to} inclusive, ascending. */
    public CompletionStage<List<StoredEvent>> read(String persistenceId, long from, long to) {
        return journal.currentEventsByPersistenceId(persistenceId, from, to)
            .map(envelope -> RoomEvent.stored((RoomEvent) envelope.event(), envelope.sequenceNr()))
            .runWith(Sink.seq(), system);
    }
}
