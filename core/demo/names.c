/* Data tables for `crm demo`: names, places, products, agents.
 *
 * Names are written the way the kernel stores them (crm_normalise_name's
 * output), so clean rows are not counted as normalised. First and last
 * names are each unique after accent folding: email addresses are derived
 * from them and must not collide ("Müller" and "Muller" would). Postal codes
 * are real codes of the city; weights are rough populations in thousands. */
#include "demo.h"

#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define TABLE_N(name) const size_t name##_n = COUNT(name)

const char *const crm_demo_first_names[] = {
    /* French */
    "Élodie", "François", "Hélène", "Jérôme", "Céline", "Stéphane", "Frédéric", "Sébastien",
    "Gaëlle", "Noël", "Zoé", "Chloé", "Léa", "Inès", "Maëlle", "Anaïs", "Agnès", "Béatrice",
    "Cécile", "Clément", "Hervé", "Jérémy", "Loïc", "Mathéo", "Raphaël", "Timothée", "Valérie",
    "Véronique", "André", "René", "Benoît", "Joël", "Aurélie", "Amélie", "Émilie", "Mélanie",
    "Séverine", "Thérèse", "Jean-Pierre", "Marie-Claire", "Anne-Sophie", "Jean-Luc",
    "Pierre-Yves", "Françoise", "Ginette", "Gérard", "Jacques", "Michel", "Philippe", "Nicolas",
    "Julien", "Camille", "Manon", "Sarah", "Julie", "Lucas", "Hugo", "Louis", "Nathan", "Arthur",
    "Jules", "Gabriel", "Emma", "Louise", "Alice", "Juliette", "Lina", "Rose", "Jade", "Mila",
    "Ambre", "Léon", "Théo", "Noé", "Adèle", "Margaux", "Pauline", "Laura", "Marine", "Claire",
    "Sophie", "Isabelle", "Nathalie", "Sandrine", "Christine", "Catherine", "Sylvie",
    "Martine", "Patricia", "Laurence", "Caroline", "Karine", "Delphine", "Virginie",
    "Stéphanie", "Aurélien", "Guillaume", "Romain", "Maxime", "Alexandre", "Antoine",
    "Vincent", "Olivier", "Christophe", "Laurent", "David", "Éric", "Pascal", "Thierry",
    "Bruno", "Patrick", "Yannick", "Cédric", "Grégory", "Anthony", "Kévin", "Benjamin",
    "Quentin", "Florian", "Adrien", "Bastien", "Damien", "Fabien", "Mathieu", "Rémi",
    "Sylvain", "Xavier", "Yves", "Gaspard", "Basile", "Côme", "Solène", "Maëva", "Océane",
    "Clémence", "Éloïse", "Noémie", "Héloïse", "Capucine", "Bérénice", "Ophélie", "Laëtitia",
    "Jérémie", "Aurore", "Mégane", "Mylène", "Ségolène", "Gwenaëlle", "Ronan", "Erwan", "Yann",
    "Tanguy", "Margot", "Lucie", "Charlotte", "Mathilde", "Victor", "Paul", "Baptiste",
    /* Maghreb and West Africa, common in France */
    "Mohamed", "Karim", "Yacine", "Rachid", "Nadia", "Samira", "Fatima", "Leïla", "Yasmine",
    "Mehdi", "Sofiane", "Amine", "Aïcha", "Moussa", "Mamadou", "Fatou", "Aminata", "Ousmane",
    /* elsewhere in Europe */
    "Søren", "Björn", "Åsa", "Jürgen", "Jörg", "Günther", "Klaus", "Uwe", "Sabine", "Ulrike",
    "Katrin", "Lukas", "Leonie", "Matthias", "Núria", "Íñigo", "José", "María", "Lucía",
    "Álvaro", "Sofía", "Andrés", "Jesús", "Giulia", "Niccolò", "Francesca", "Lorenzo",
    "Matteo", "Chiara", "Alessandro", "Federica", "Ilaria", "Siobhán", "Seán", "Oliver",
    "Jack", "Emily", "Harry", "Amelia", "Małgorzata", "Łukasz", "Zoltán", "Ingrid", "Lars",
    "Nils", "Astrid", "Mette", "Jens", "Dagmar", "João", "Conceição",
};
TABLE_N(crm_demo_first_names);

const char *const crm_demo_last_names[] = {
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont",
    "Lambert", "Bonnet", "François", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
    "Guérin", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément",
    "Gauthier", "Dumont", "Fontaine", "Chevalier", "Robin", "Masson", "Gérard", "Nguyen",
    "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël",
    "Meyer", "Lucas", "Meunier", "Jean", "Marchand", "Dufour", "Blanchard", "Marie",
    "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Pierre", "Renard",
    "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois",
    "Renaud", "Lemoine", "Picard", "Gaillard", "Philippe", "Leclercq", "Lacroix", "Fabre",
    "Dupuis", "Olivier", "Hubert", "Louis", "Charles", "Guillot", "Rivière", "Le Gall",
    "Guillaume", "Adam", "Rey", "Moulin", "Berger", "Lecomte", "Ménard", "Fleury",
    "Deschamps", "Carpentier", "Julien", "Benoît", "Paris", "Maillard", "Marchal", "Aubry",
    "Vasseur", "Le Meur", "Renault", "Jacquet", "Collet", "Prévost", "Poirier", "Charpentier",
    "Royer", "Huet", "Baron", "Dupuy", "Pons", "Carré", "Breton", "Rémy", "Perrot", "Guyot",
    "Barre", "Marty", "Cousin", "De la Fontaine", "De Villiers", "Le Goff", "Le Floch",
    "Kerbrat", "Le Bihan", "Dubois-Martin", "Lévêque", "Bézier", "Hébert", "Bénard", "Pétain",
    "Thébault", "Le Guével", "Guégan", "Coëffic", "Josserand", "Aumont", "Desjardins",
    "Benali", "Haddad", "Bouzid", "Mansouri", "Belkacem", "Saïdi", "Cherif", "Khelifi",
    "Amrani", "Diallo", "Traoré", "Diop", "Ndiaye", "Camara", "Coulibaly", "Keïta", "Tran",
    "Pham", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker",
    "Hoffmann", "Schäfer", "Koch", "Richter", "Wolf", "Schröder", "Neumann", "Braun",
    "Krüger", "Zimmermann", "Hartmann", "Lange", "Jäger", "Núñez", "García", "Fernández",
    "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Díaz",
    "Muñoz", "Álvarez", "Romero", "Ibáñez", "Peña", "Rossi", "Russo", "Ferrari", "Esposito",
    "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti",
    "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Sørensen",
    "Jørgensen", "Nielsen", "Hansen", "Andersson", "Johansson", "Lindström", "Åberg",
    "Ødegaard", "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson",
    "O'Brien", "O'Connor", "McCarthy", "Murphy", "Kelly", "Walsh", "Kowalski", "Nowak",
    "Wiśniewski", "Wójcik", "Dvořák", "Novák", "Svoboda", "Gonçalves", "Silva", "Santos",
    "Ferreira", "Pereira", "Magalhães", "Araújo",
};
TABLE_N(crm_demo_last_names);

/* Company names are "<trade> <core> <legal form>"; cores are family or
 * place names. */
const char *const crm_demo_company_cores[] = {
    "Martin", "Dubois", "Lefèvre", "Moreau", "Garnier", "Rousseau", "Fontaine", "Chevalier",
    "Mercier", "Bonnet", "Lambert", "Faure", "Girard", "Blanchard", "Perrin", "Leclerc",
    "Renaud", "Lacroix", "Rivière", "Prévost", "Ménard", "Carré", "Hébert", "Thébault",
    "du Lac", "des Alpes", "du Centre", "de la Gare", "du Port", "Saint-Michel", "des Lilas",
    "Bellevue", "du Marché", "des Halles", "du Moulin", "de Provence", "du Vieux Pont",
    "des Quais", "de l'Étoile", "du Parc", "Beaulieu", "Montplaisir", "Belle-Île",
    "des Cèdres", "du Château", "de la Colline", "des Vignes", "du Soleil", "Horizon",
    "Lumière", "Azur", "Atlantique", "Méditerranée", "Océane", "Boréal", "Opale",
    "Müller", "Schäfer", "Krüger", "Weber", "Hoffmann", "Núñez", "García", "Ibáñez", "Peña",
    "Rossi", "Bianchi", "Colombo", "Smith", "O'Brien", "Walsh", "Keïta", "Diallo", "Haddad",
    "Benali", "Nguyen", "Tran", "Le Gall", "Le Goff", "Kerbrat", "Josserand", "Desjardins",
    "Aumont", "Vasseur", "Maillard", "Charpentier", "Lemoine", "Brunet", "Picard", "Royer",
    "Dumont", "Gauthier", "Marchand", "Barbier", "Leroux", "Aubert", "Giraud", "Fabre",
    "Hubert", "Guillot", "Moulin", "Berger", "Fleury", "Deschamps", "Jacquet", "Poirier",
};
TABLE_N(crm_demo_company_cores);

/* Trades by language, same order in every language (index = trade). */
static const char *const trades_fr[] = {
    "Boulangerie", "Garage", "Cabinet", "Atelier", "Pharmacie", "Librairie", "Fromagerie",
    "Imprimerie", "Menuiserie", "Brasserie", "Agence", "Studio", "Maison", "Domaine",
    "Hôtel", "Restaurant", "Boucherie", "Pâtisserie", "Fleuriste", "Optique", "Transports",
    "Plomberie", "Électricité", "Conseil",
};
static const char *const trades_de[] = {
    "Bäckerei", "Autohaus", "Kanzlei", "Werkstatt", "Apotheke", "Buchhandlung", "Käserei",
    "Druckerei", "Schreinerei", "Brauerei", "Agentur", "Studio", "Haus", "Weingut", "Hotel",
    "Restaurant", "Metzgerei", "Konditorei", "Blumenhaus", "Optik", "Spedition", "Sanitär",
    "Elektro", "Beratung",
};
static const char *const trades_es[] = {
    "Panadería", "Autos", "Despacho", "Taller", "Farmacia", "Librería", "Quesería",
    "Imprenta", "Carpintería", "Cervecería", "Agencia", "Estudio", "Casa", "Bodega", "Hotel",
    "Restaurante", "Carnicería", "Pastelería", "Floristería", "Óptica", "Transportes",
    "Fontanería", "Electricidad", "Consultoría",
};
static const char *const trades_it[] = {
    "Panificio", "Autorimessa", "Ufficio", "Laboratorio", "Farmacia", "Libreria",
    "Caseificio", "Tipografia", "Falegnameria", "Birrificio", "Agenzia", "Studio", "Casa",
    "Tenuta", "Albergo", "Ristorante", "Macelleria", "Pasticceria", "Fioreria", "Ottica",
    "Trasporti", "Idraulica", "Elettricità", "Consulenza",
};
static const char *const trades_en[] = {
    "Bakery", "Garage", "Chambers", "Workshop", "Pharmacy", "Books", "Cheese Company",
    "Print", "Joinery", "Brewery", "Agency", "Studio", "House", "Estate", "Hotel", "Kitchen",
    "Butchers", "Patisserie", "Florist", "Optical", "Haulage", "Plumbing", "Electrical",
    "Consulting",
};
_Static_assert(COUNT(trades_fr) == COUNT(trades_de) && COUNT(trades_fr) == COUNT(trades_es) &&
                   COUNT(trades_fr) == COUNT(trades_it) && COUNT(trades_fr) == COUNT(trades_en),
               "every language lists every trade");

const char *const *crm_demo_trades(const char *lang, size_t *n)
{
    static const struct {
        const char *lang;
        const char *const *words;
    } langs[] = {
        {"de", trades_de}, {"es", trades_es}, {"it", trades_it}, {"en", trades_en},
    };
    *n = COUNT(trades_fr);
    for (size_t i = 0; i < COUNT(langs); i++)
        if (strcmp(lang, langs[i].lang) == 0)
            return langs[i].words;
    return trades_fr;
}

/* Streets: the generator adds the number where the country puts it. */
static const char *const streets_fr[] = {
    "rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo",
    "rue du Général Leclerc", "place de la Mairie", "rue Pasteur", "avenue de la Gare",
    "chemin des Vignes", "allée des Tilleuls", "rue des Écoles", "impasse des Lilas",
    "rue Nationale", "avenue Foch", "rue de Verdun", "rue Émile Zola", "boulevard Gambetta",
    "rue Voltaire", "rue du Moulin", "quai des Bateliers", "rue Saint-Jacques",
    "cours Mirabeau", "rue de l'Église", "rue Sainte-Catherine", "rue de la Paix",
    "route de Lyon", "rue Jules Ferry", "rue Anatole France", "avenue du Maréchal Foch",
    "rue des Acacias", "rue du Château", "place du Marché", "rue Lamartine",
    "boulevard de la Liberté", "rue Jean Moulin", "avenue de Bretagne", "rue des Prés",
    NULL,
};
static const char *const streets_be[] = {
    "rue Neuve", "avenue Louise", "chaussée de Waterloo", "Kerkstraat", "Stationsstraat",
    "rue du Marché", "boulevard Anspach", "place Saint-Lambert", "rue de Namur",
    "Meir", "Veldstraat", "rue des Carmes", NULL,
};
static const char *const streets_ch[] = {
    "Bahnhofstrasse", "rue du Rhône", "avenue de la Gare", "Seestrasse", "rue de Lausanne",
    "Marktgasse", "chemin des Crêts", "Kramgasse", "rue du Simplon", "Via Nassa", NULL,
};
static const char *const streets_de[] = {
    "Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Goethestraße", "Gartenstraße",
    "Lindenallee", "Marktplatz", "Kirchweg", "Mühlenweg", "Friedrichstraße",
    "Königsallee", "Am Rathaus", NULL,
};
static const char *const streets_es[] = {
    "Calle Mayor", "Gran Vía", "Calle de Alcalá", "Avenida de la Constitución",
    "Paseo de Gracia", "Calle Real", "Plaza de España", "Calle del Carmen",
    "Rambla de Catalunya", "Calle de Serrano", NULL,
};
static const char *const streets_it[] = {
    "Via Roma", "Corso Vittorio Emanuele II", "Via Garibaldi", "Piazza del Duomo",
    "Via Dante", "Via Mazzini", "Viale della Libertà", "Via Cavour", "Via XX Settembre",
    "Corso Italia", NULL,
};
static const char *const streets_gb[] = {
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue",
    "King's Road", "Queen Street", "Mill Lane", "The Green", "London Road", NULL,
};

const char *const *crm_demo_streets(const char *country)
{
    static const struct {
        const char *country;
        const char *const *streets;
    } by_country[] = {
        {"BE", streets_be}, {"CH", streets_ch}, {"DE", streets_de},
        {"ES", streets_es}, {"IT", streets_it}, {"GB", streets_gb},
    };
    for (size_t i = 0; i < COUNT(by_country); i++)
        if (strcmp(country, by_country[i].country) == 0)
            return by_country[i].streets;
    return streets_fr;
}

/* {country, city, first code, number of codes, step, GB outward codes, weight} */
#define FR(city, code, n, step, w) {"FR", city, code, n, step, NULL, w}
#define NUM(cc, city, code, n, step, w) {cc, city, code, n, step, NULL, w}
#define GB(city, out, w) {"GB", city, 0, 1, 0, out, w}
const crm_demo_city crm_demo_cities[] = {
    FR("Paris", 75001, 20, 1, 2100), FR("Marseille", 13001, 16, 1, 870),
    FR("Lyon", 69001, 9, 1, 520), FR("Toulouse", 31000, 6, 100, 490),
    FR("Nice", 6000, 4, 100, 340), FR("Nantes", 44000, 4, 100, 320),
    FR("Montpellier", 34000, 1, 1, 300), FR("Strasbourg", 67000, 3, 100, 290),
    FR("Bordeaux", 33000, 4, 100, 260), FR("Lille", 59000, 1, 1, 235),
    FR("Rennes", 35000, 1, 1, 225), FR("Reims", 51100, 1, 1, 180),
    FR("Saint-Étienne", 42000, 1, 1, 175), FR("Le Havre", 76600, 1, 1, 165),
    FR("Toulon", 83000, 1, 1, 180), FR("Grenoble", 38000, 1, 1, 160),
    FR("Dijon", 21000, 1, 1, 160), FR("Angers", 49000, 1, 1, 155), FR("Nîmes", 30000, 1, 1, 150),
    FR("Villeurbanne", 69100, 1, 1, 150), FR("Clermont-Ferrand", 63000, 1, 1, 145),
    FR("Le Mans", 72000, 1, 1, 145), FR("Aix-en-Provence", 13100, 1, 1, 145),
    FR("Brest", 29200, 1, 1, 140), FR("Tours", 37000, 1, 1, 135), FR("Amiens", 80000, 1, 1, 135),
    FR("Limoges", 87000, 1, 1, 130), FR("Annecy", 74000, 1, 1, 130),
    FR("Perpignan", 66000, 1, 1, 120), FR("Boulogne-Billancourt", 92100, 1, 1, 120),
    FR("Metz", 57000, 1, 1, 118), FR("Besançon", 25000, 1, 1, 118),
    FR("Orléans", 45000, 1, 1, 116), FR("Saint-Denis", 93200, 1, 1, 113),
    FR("Argenteuil", 95100, 1, 1, 110), FR("Rouen", 76000, 1, 1, 110),
    FR("Montreuil", 93100, 1, 1, 110), FR("Mulhouse", 68100, 1, 1, 108),
    FR("Caen", 14000, 1, 1, 106), FR("Nancy", 54000, 1, 1, 104), FR("Tourcoing", 59200, 1, 1, 98),
    FR("Roubaix", 59100, 1, 1, 98), FR("Nanterre", 92000, 1, 1, 96),
    FR("Vitry-sur-Seine", 94400, 1, 1, 95), FR("Avignon", 84000, 1, 1, 91),
    FR("Créteil", 94000, 1, 1, 92), FR("Poitiers", 86000, 1, 1, 89), FR("Pau", 64000, 1, 1, 77),
    FR("Versailles", 78000, 1, 1, 85), FR("Colombes", 92700, 1, 1, 86),
    FR("Aubervilliers", 93300, 1, 1, 88), FR("Asnières-sur-Seine", 92600, 1, 1, 87),
    FR("Rueil-Malmaison", 92500, 1, 1, 79), FR("La Rochelle", 17000, 1, 1, 77),
    FR("Calais", 62100, 1, 1, 67), FR("Champigny-sur-Marne", 94500, 1, 1, 77),
    FR("Antibes", 6600, 1, 1, 74), FR("Béziers", 34500, 1, 1, 79), FR("Cannes", 6400, 1, 1, 74),
    FR("Saint-Maur-des-Fossés", 94100, 1, 1, 75), FR("Colmar", 68000, 1, 1, 68),
    FR("Bourges", 18000, 1, 1, 64), FR("Drancy", 93700, 1, 1, 71), FR("Mérignac", 33700, 1, 1, 72),
    FR("Ajaccio", 20000, 1, 1, 72), FR("Issy-les-Moulineaux", 92130, 1, 1, 68),
    FR("Levallois-Perret", 92300, 1, 1, 66), FR("Quimper", 29000, 1, 1, 63),
    FR("Valence", 26000, 1, 1, 64), FR("Vannes", 56000, 1, 1, 54), FR("Troyes", 10000, 1, 1, 61),
    FR("Chambéry", 73000, 1, 1, 60), FR("Niort", 79000, 1, 1, 59), FR("Lorient", 56100, 1, 1, 57),
    FR("Sète", 34200, 1, 1, 44), FR("Arles", 13200, 1, 1, 51), FR("Saint-Malo", 35400, 1, 1, 46),
    FR("Biarritz", 64200, 1, 1, 25), FR("Bayonne", 64100, 1, 1, 52), FR("Épinal", 88000, 1, 1, 32),
    FR("Périgueux", 24000, 1, 1, 30), FR("Agen", 47000, 1, 1, 33), FR("Auxerre", 89000, 1, 1, 35),
    FR("Évreux", 27000, 1, 1, 47), FR("Blois", 41000, 1, 1, 46), FR("Angoulême", 16000, 1, 1, 42),
    FR("Cholet", 49300, 1, 1, 54), FR("Saint-Nazaire", 44600, 1, 1, 71),
    FR("Montauban", 82000, 1, 1, 61), FR("Carcassonne", 11000, 1, 1, 46),
    FR("Albi", 81000, 1, 1, 49), FR("Chartres", 28000, 1, 1, 39), FR("Laval", 53000, 1, 1, 50),
    FR("Belfort", 90000, 1, 1, 47), FR("Châteauroux", 36000, 1, 1, 43), FR("Gap", 5000, 1, 1, 41),
    FR("Digne-les-Bains", 4000, 1, 1, 16), FR("Annemasse", 74100, 1, 1, 36),
    FR("Vichy", 3200, 1, 1, 25), FR("Mâcon", 71000, 1, 1, 34), FR("Lens", 62300, 1, 1, 31),
    FR("Dunkerque", 59140, 1, 1, 87), FR("Saint-Quentin", 2100, 1, 1, 53),
    FR("Beauvais", 60000, 1, 1, 56), FR("Compiègne", 60200, 1, 1, 41), FR("Cergy", 95000, 1, 1, 66),
    FR("Évry-Courcouronnes", 91000, 1, 1, 66), FR("Meaux", 77100, 1, 1, 55),
    FR("Melun", 77000, 1, 1, 41), FR("Fontainebleau", 77300, 1, 1, 15),
    FR("Saint-Germain-en-Laye", 78100, 1, 1, 45), FR("Neuilly-sur-Seine", 92200, 1, 1, 59),
    FR("Vincennes", 94300, 1, 1, 49), FR("Bastia", 20200, 1, 1, 48),
    FR("Aurillac", 15000, 1, 1, 25), FR("Rodez", 12000, 1, 1, 24), FR("Tarbes", 65000, 1, 1, 41),
    FR("Lourdes", 65100, 1, 1, 13), FR("Dax", 40100, 1, 1, 21),
    FR("Mont-de-Marsan", 40000, 1, 1, 30), FR("Arcachon", 33120, 1, 1, 11),
    FR("Cognac", 16100, 1, 1, 18), FR("Saintes", 17100, 1, 1, 25),
    FR("Rochefort", 17300, 1, 1, 23), FR("Les Sables-d'Olonne", 85100, 1, 1, 45),
    FR("La Roche-sur-Yon", 85000, 1, 1, 55), FR("Cherbourg-en-Cotentin", 50100, 1, 1, 78),
    FR("Saint-Brieuc", 22000, 1, 1, 44), FR("Lannion", 22300, 1, 1, 20),
    FR("Morlaix", 29600, 1, 1, 15), FR("Concarneau", 29900, 1, 1, 20),
    FR("Vienne", 38200, 1, 1, 30), FR("Roanne", 42300, 1, 1, 34),
    FR("Bourg-en-Bresse", 1000, 1, 1, 42), FR("Thonon-les-Bains", 74200, 1, 1, 36),
    FR("Chamonix-Mont-Blanc", 74400, 1, 1, 9), FR("Menton", 6500, 1, 1, 30),
    FR("Grasse", 6130, 1, 1, 50), FR("Fréjus", 83600, 1, 1, 55), FR("Hyères", 83400, 1, 1, 56),
    FR("Salon-de-Provence", 13300, 1, 1, 45), FR("Martigues", 13500, 1, 1, 49),
    FR("Aubagne", 13400, 1, 1, 47), FR("Orange", 84100, 1, 1, 29),
    FR("Carpentras", 84200, 1, 1, 28), FR("Alès", 30100, 1, 1, 43),
    FR("Narbonne", 11100, 1, 1, 55), FR("Castres", 81100, 1, 1, 42),
    NUM("BE", "Bruxelles", 1000, 1, 1, 180), NUM("BE", "Ixelles", 1050, 1, 1, 87),
    NUM("BE", "Schaerbeek", 1030, 1, 1, 133), NUM("BE", "Uccle", 1180, 1, 1, 83),
    NUM("BE", "Liège", 4000, 1, 1, 197), NUM("BE", "Namur", 5000, 1, 1, 111),
    NUM("BE", "Charleroi", 6000, 1, 1, 201), NUM("BE", "Mons", 7000, 1, 1, 95),
    NUM("BE", "Gent", 9000, 1, 1, 263), NUM("BE", "Antwerpen", 2000, 1, 1, 530),
    NUM("BE", "Brugge", 8000, 1, 1, 118), NUM("BE", "Leuven", 3000, 1, 1, 101),
    NUM("BE", "Wavre", 1300, 1, 1, 34), NUM("BE", "Tournai", 7500, 1, 1, 69),
    NUM("BE", "Waterloo", 1410, 1, 1, 30), NUM("BE", "Arlon", 6700, 1, 1, 30),
    NUM("CH", "Genève", 1201, 9, 1, 203), NUM("CH", "Lausanne", 1003, 5, 1, 140),
    NUM("CH", "Zürich", 8001, 8, 1, 420), NUM("CH", "Bern", 3011, 5, 1, 134),
    NUM("CH", "Basel", 4051, 5, 1, 173), NUM("CH", "Fribourg", 1700, 1, 1, 38),
    NUM("CH", "Neuchâtel", 2000, 1, 1, 44), NUM("CH", "Sion", 1950, 1, 1, 35),
    NUM("CH", "Lugano", 6900, 1, 1, 62), NUM("CH", "Montreux", 1820, 1, 1, 26),
    NUM("CH", "Nyon", 1260, 1, 1, 22), NUM("CH", "Vevey", 1800, 1, 1, 20),
    NUM("DE", "Berlin", 10115, 3, 2, 1200), NUM("DE", "München", 80331, 5, 2, 600),
    NUM("DE", "Hamburg", 20095, 3, 2, 700), NUM("DE", "Köln", 50667, 2, 1, 400),
    NUM("DE", "Frankfurt am Main", 60311, 2, 2, 300), NUM("DE", "Stuttgart", 70173, 2, 1, 250),
    NUM("DE", "Düsseldorf", 40210, 4, 1, 250), NUM("DE", "Leipzig", 4103, 4, 2, 230),
    NUM("DE", "Dresden", 1067, 2, 2, 220), NUM("DE", "Nürnberg", 90402, 2, 1, 200),
    NUM("DE", "Bremen", 28195, 1, 1, 150), NUM("DE", "Hannover", 30159, 1, 1, 150),
    NUM("DE", "Freiburg im Breisgau", 79098, 1, 1, 90), NUM("DE", "Heidelberg", 69117, 1, 1, 60),
    NUM("DE", "Münster", 48143, 1, 1, 120), NUM("DE", "Aachen", 52062, 1, 1, 100),
    NUM("DE", "Saarbrücken", 66111, 1, 1, 70), NUM("DE", "Würzburg", 97070, 1, 1, 50),
    NUM("ES", "Madrid", 28001, 15, 1, 1500), NUM("ES", "Barcelona", 8001, 15, 1, 800),
    NUM("ES", "Valencia", 46001, 10, 1, 400), NUM("ES", "Sevilla", 41001, 10, 1, 350),
    NUM("ES", "Zaragoza", 50001, 5, 1, 330), NUM("ES", "Málaga", 29001, 5, 1, 290),
    NUM("ES", "Bilbao", 48001, 5, 1, 170), NUM("ES", "Alicante", 3001, 5, 1, 170),
    NUM("ES", "Córdoba", 14001, 5, 1, 160), NUM("ES", "Granada", 18001, 5, 1, 115),
    NUM("ES", "A Coruña", 15001, 5, 1, 123), NUM("ES", "Palma", 7001, 5, 1, 210),
    NUM("ES", "Donostia-San Sebastián", 20001, 5, 1, 95), NUM("ES", "Cádiz", 11001, 5, 1, 58),
    NUM("IT", "Roma", 184, 4, 1, 1400), NUM("IT", "Milano", 20121, 9, 1, 700),
    NUM("IT", "Napoli", 80121, 9, 1, 470), NUM("IT", "Torino", 10121, 8, 1, 430),
    NUM("IT", "Firenze", 50121, 3, 1, 180), NUM("IT", "Bologna", 40121, 4, 1, 190),
    NUM("IT", "Venezia", 30121, 4, 1, 130), NUM("IT", "Genova", 16121, 4, 1, 280),
    NUM("IT", "Verona", 37121, 4, 1, 130), NUM("IT", "Bari", 70121, 4, 1, 160),
    NUM("IT", "Trieste", 34121, 3, 1, 100), NUM("IT", "Padova", 35121, 3, 1, 105),
    GB("London", "SW1A EC1A WC2N N1 E1 SE1 NW1 W1D SW3 E14", 3000),
    GB("Manchester", "M1 M2 M4", 300), GB("Birmingham", "B1 B2 B3", 400),
    GB("Edinburgh", "EH1 EH2 EH3", 200), GB("Glasgow", "G1 G2", 250),
    GB("Bristol", "BS1 BS8", 180), GB("Leeds", "LS1 LS2", 260), GB("Liverpool", "L1 L2", 200),
    GB("Oxford", "OX1 OX2", 60), GB("Cambridge", "CB1 CB2", 50), GB("Brighton", "BN1 BN2", 90),
    GB("Cardiff", "CF10 CF11", 120), GB("Bath", "BA1 BA2", 35), GB("York", "YO1", 80),
};
TABLE_N(crm_demo_cities);
#undef FR
#undef NUM
#undef GB

/* A home and lifestyle shop, by increasing price (EUR cents). */
const crm_demo_product crm_demo_products[] = {
    {"BGP-020", "Bougies chauffe-plat ×20", 350},
    {"SAV-002", "Savon surgras au lait d'ânesse", 390},
    {"LAV-010", "Sachet de lavande", 450},
    {"SAV-001", "Savon de Marseille 300 g", 490},
    {"EPI-003", "Confiture d'abricot 350 g", 590},
    {"PAP-001", "Carnet ligné A5", 750},
    {"EPI-002", "Thé vert bio 100 g", 850},
    {"EPI-004", "Miel de lavande 250 g", 980},
    {"LIN-003", "Torchon en lin", 990},
    {"TAB-010", "Tasse en grès", 1200},
    {"BGP-001", "Bougie parfumée « Figue »", 1490},
    {"ACC-002", "Gourde inox 50 cl", 1990},
    {"EPI-001", "Café en grains 1 kg", 2200},
    {"TAB-011", "Set de 4 verres", 2400},
    {"DEC-004", "Bougeoir en laiton", 2900},
    {"ACC-001", "Parapluie pliant", 2990},
    {"DEC-007", "Panier en osier", 3200},
    {"DEC-002", "Coussin en velours", 3500},
    {"LIN-002", "Nappe en coton 160×250", 3900},
    {"DEC-003", "Vase en céramique", 4500},
    {"ENF-001", "Couverture bébé", 4500},
    {"CAD-001", "Coffret cadeau épicerie fine", 4900},
    {"CAD-050", "Carte cadeau 50 €", 5000},
    {"TAB-012", "Théière en fonte", 5900},
    {"DEC-006", "Horloge murale", 6500},
    {"TAB-013", "Couteau Laguiole", 6900},
    {"LIN-001", "Plaid en laine", 7900},
    {"MEU-005", "Étagère murale", 7900},
    {"LUM-001", "Lampe de chevet", 8900},
    {"DEC-005", "Miroir rond", 11900},
    {"MEU-004", "Chaise bistrot", 12900},
    {"ACC-003", "Sac cabas en cuir", 14900},
    {"TAB-014", "Service de table 18 pièces", 15900},
    {"LUM-002", "Suspension en rotin", 18900},
    {"TAB-015", "Cocotte en fonte 24 cm", 19900},
    {"MEU-003", "Fauteuil en rotin", 34900},
    {"DEC-008", "Tapis berbère", 42000},
    {"ELM-001", "Machine à espresso", 44900},
    {"MEU-002", "Table basse en chêne", 49000},
    {"MEU-001", "Canapé 3 places", 129000},
};
TABLE_N(crm_demo_products);

const crm_demo_user crm_demo_users[] = {
    {"Hélène Dubois", "helene.dubois@maison-demo.fr", "admin"},
    {"Élodie Garnier", "elodie.garnier@maison-demo.fr", "manager"},
    {"François Lemaire", "francois.lemaire@maison-demo.fr", "agent"},
    {"Søren Müller", "soren.muller@maison-demo.fr", "agent"},
    {"Núria Pérez", "nuria.perez@maison-demo.fr", "agent"},
    {"Karim Haddad", "karim.haddad@maison-demo.fr", "agent"},
    {"Thomas Roux", "thomas.roux@maison-demo.fr", "viewer"},
};
TABLE_N(crm_demo_users);
