package dev.pulse.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResource;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResourceDirectory;
import static org.apache.pekko.http.javadsl.server.Directives.pathSingleSlash;

import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.server.Route;

/** The web UI, packaged by web-ui/ under {@code pulse-web/} on the classpath. */
public final class StaticRoute {

    private static final String ROOT = "pulse-web";

    public Route route() {
        return get(() -> concat(
            pathSingleSlash(() -> getFromResource(ROOT + "/index.html", ContentTypes.TEXT_HTML_UTF8)),
            getFromResourceDirectory(ROOT)));
    }
}
