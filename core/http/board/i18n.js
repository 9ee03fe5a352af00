// Every label of the board, English and French side by side: one table, so
// a label missing in one language is visible here.
const labels = {
  login: ['Log in', 'Connexion'],
  logout: ['Log out', 'Déconnexion'],
  user: ['Email', 'E-mail'],
  password: ['Password', 'Mot de passe'],
  login_failed: ['Unknown user or wrong password', 'Utilisateur inconnu ou mot de passe erroné'],
  contacts: ['Contacts', 'Contacts'],
  pipeline: ['Pipeline', 'Pipeline'],
  rfm: ['RFM grid', 'Grille RFM'],
  segments: ['Segments', 'Segments'],
  tickets: ['Tickets', 'Tickets'],
  search: ['Search by name', 'Rechercher par nom'],
  no_results: ['Nothing found', 'Aucun résultat'],
  more: ['More', 'Suite'],
  name: ['Name', 'Nom'],
  email: ['Email', 'E-mail'],
  phone: ['Phone', 'Téléphone'],
  city: ['City', 'Ville'],
  stage: ['Stage', 'Étape'],
  timeline: ['Timeline', 'Historique'],
  back: ['Back', 'Retour'],
  loyalty: ['Loyalty card', 'Carte de fidélité'],
  tier: ['Tier', 'Niveau'],
  balance: ['Balance', 'Solde'],
  points: ['points', 'points'],
  redeem: ['Redeem', 'Utiliser'],
  reason: ['Reason', 'Motif'],
  deal: ['deal', 'affaire'],
  deals: ['deals', 'affaires'],
  weighted: ['weighted', 'pondéré'],
  moved: ['Deal moved', 'Affaire déplacée'],
  recency: ['Recency', 'Récence'],
  frequency: ['Frequency', 'Fréquence'],
  members: ['Members', 'Membres'],
  size: ['Size', 'Taille'],
  first_100: ['The first 100 only', 'Les 100 premiers seulement'],
  history: ['History', 'Historique'],
  subject: ['Subject', 'Objet'],
  priority: ['Priority', 'Priorité'],
  team: ['Team', 'Équipe'],
  assignee: ['Assignee', 'Assigné à'],
  due: ['Due', 'Échéance'],
  breached: ['Breached', 'Dépassé'],
  at_risk: ['At risk', 'À risque'],
  on_time: ['On time', 'Dans les temps'],
  read_only: ['Read only', 'Lecture seule'],
  error: ['Error', 'Erreur'],
  kind_interaction: ['Interaction', 'Interaction'],
  kind_order: ['Order', 'Commande'],
  kind_stage: ['Stage change', "Changement d'étape"],
  kind_task: ['Task', 'Tâche'],
  kind_consent: ['Consent', 'Consentement'],
  kind_message: ['Message', 'Message'],
  kind_event: ['Event', 'Événement'],
};

// French where crm.yaml's locale.country speaks it, else the browser's
// language; a choice made on the page (localStorage) wins.
const frenchCountries = ['FR', 'BE', 'LU', 'MC'];

export function pickLanguage(country) {
  const chosen = localStorage.getItem('crm.lang');
  if (chosen === 'en' || chosen === 'fr') return chosen;
  if (frenchCountries.includes(country)) return 'fr';
  return (navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

let lang = 'en';
export function setLanguage(l) { lang = l; document.documentElement.lang = l; }
export function language() { return lang; }
export function t(key) {
  const row = labels[key];
  return row ? row[lang === 'fr' ? 1 : 0] : key;
}
