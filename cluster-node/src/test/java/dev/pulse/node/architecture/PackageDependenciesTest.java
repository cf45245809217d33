package dev.pulse.node.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The node's packages depend one way: {@code http → session → {delivery, user} → room}, with the
 * root package ({@code Main}, {@code PulseNode}) wiring them together, and {@code metrics} below all
 * of them (they record into it; it knows none of them). Nothing imports
 * {@code http} or {@code session} but the wiring, and transport types stay in {@code http}.
 */
class PackageDependenciesTest {

    private static JavaClasses node;

    @BeforeAll
    static void importMainClasses() {
        node = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.pulse.node");
    }

    @Test
    void layersAreOnlyUsedFromAbove() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("wiring").definedBy("dev.pulse.node")
            .layer("http").definedBy("dev.pulse.node.http..")
            .layer("session").definedBy("dev.pulse.node.session..")
            .layer("delivery").definedBy("dev.pulse.node.delivery..")
            .layer("user").definedBy("dev.pulse.node.user..")
            .layer("room").definedBy("dev.pulse.node.room..")
            .layer("auth").definedBy("dev.pulse.node.auth..")
            .layer("persistence").definedBy("dev.pulse.node.persistence..")
            .layer("cluster").definedBy("dev.pulse.node.cluster..")
            .layer("metrics").definedBy("dev.pulse.node.metrics..")
            .whereLayer("http").mayOnlyBeAccessedByLayers("wiring")
            .whereLayer("session").mayOnlyBeAccessedByLayers("http", "wiring")
            .whereLayer("delivery").mayOnlyBeAccessedByLayers("session", "http", "wiring")
            // accounts live in the user entity: auth asks it (register, login, logout)
            .whereLayer("user").mayOnlyBeAccessedByLayers("session", "auth", "wiring")
            .whereLayer("room").mayOnlyBeAccessedByLayers("user", "delivery", "session", "wiring")
            // a session knows the token its socket was opened with (logout and expiry close it)
            .whereLayer("auth").mayOnlyBeAccessedByLayers("http", "session", "wiring")
            .whereLayer("persistence").mayOnlyBeAccessedByLayers("wiring")
            .whereLayer("cluster").mayOnlyBeAccessedByLayers("wiring")
            .whereLayer("metrics").mayOnlyBeAccessedByLayers("http", "session", "delivery", "room", "wiring")
            .check(node);
    }

    @Test
    void metricsKnowNothingOfTheLayersThatRecordIntoThem() {
        noClasses().that().resideInAPackage("dev.pulse.node.metrics..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.pulse.node.http..", "dev.pulse.node.session..",
                "dev.pulse.node.delivery..", "dev.pulse.node.user..", "dev.pulse.node.room..", "dev.pulse.node.auth..",
                "dev.pulse.node.persistence..", "dev.pulse.node.cluster..")
            .check(node);
    }

    @Test
    void pekkoHttpTypesStayInHttp() {
        noClasses().that().resideOutsideOfPackage("dev.pulse.node.http..")
            .should().dependOnClassesThat().resideInAPackage("org.apache.pekko.http..")
            .check(node);
    }

    @Test
    void pekkoHttpInternalsAreUsedInOnePlace() {
        DescribedPredicate<JavaClass> partOfPekkoWebSocket = DescribedPredicate.describe("http.PekkoWebSocket or its connection stage",
            type -> type.getName().startsWith("dev.pulse.node.http.PekkoWebSocket"));
        noClasses().that(DescribedPredicate.not(partOfPekkoWebSocket))
            .should().dependOnClassesThat().resideInAPackage("org.apache.pekko.http.impl..")
            .check(node);
    }
}
