/**
 * Given names and the short forms and spellings people use for them, for duplicate matching
 * (domain/matching.ts). Written here because the npm registry has no maintained nickname
 * library: what it lists are generators of random nicknames, full-name parsers that only
 * split out a quoted nickname, and a one-release name matcher. A compact table of the common
 * English short forms and spellings, and a few Spanish, Italian and German ones, covers the
 * duplicates people make; translations (John/Juan) are deliberately not in it, since one
 * person is rarely written both ways.
 *
 * One line per formal name: `formal: variant variant ...`. A variant may belong to several
 * formal names (al: Albert, Alan, Alfred, Alexander); two names match when they share one.
 */
const table = `
abigail: abby abbie gail
albert: al bert bertie
alan: al allan allen
alexander: alex al alec sandy sasha xander
alexandra: alex sandra sandy sasha lexi alexa
alfred: al alf alfie fred freddie
andrew: andy drew
anthony: tony
augustus: gus august
barbara: barb barbie babs
benjamin: ben benny benji
charles: charlie chuck chas chaz
christopher: chris kit topher
christine: chris christina tina kristine kristina
cynthia: cindy cyndi
daniel: dan danny
david: dave davey
deborah: deb debbie debra
dorothy: dot dottie dolly
edward: ed eddie ted teddy ned
edmund: ed eddie ned
elizabeth: liz lizzie lizzy beth betty bess bessie betsy eliza elsie libby
eleanor: ellie nell nellie nora
frances: fran frannie frankie
francis: frank frankie fran
francisco: paco pancho
frederick: fred freddie freddy rick
friedrich: fritz
gabriel: gabe gabby
giuseppe: beppe peppe
gregory: greg
guadalupe: lupe
harold: harry hal
henry: harry hank hal
ignacio: nacho
jacob: jake
james: jim jimmy jamie jem
jennifer: jen jenny jenn
jeffrey: jeff geoffrey geoff
jesus: chuy
johannes: hans johann
john: jack johnny jon
jonathan: jon jonny nathan
jose: pepe
joseph: joe joey jo josef sepp
joshua: josh
katherine: kate katie kathy cathy kat kit kitty kathryn katharine catherine
kenneth: ken kenny
lawrence: larry laurence
louis: lou louie
louise: lou lulu
margaret: peggy maggie meg madge margie marge greta gretchen
mary: molly polly mae mamie
matthew: matt matty
michael: mike mikey mick mickey micky
nathaniel: nate nat nathan
nicholas: nick nicky nico nicolas
pamela: pam
patricia: pat patty patsy trish tricia
patrick: pat paddy
peter: pete
philip: phil phillip
rebecca: becky becca
richard: rick ricky rich richie dick
robert: bob bobby rob robbie robby bert
ronald: ron ronnie
samantha: sam sammy
samuel: sam sammy
sarah: sara sally sadie
stephen: steve steven stevie
susan: sue susie suzy suzanne
theodore: ted teddy theo
thomas: tom tommy thom
timothy: tim timmy
victoria: vicky vickie tori
walter: walt wally
william: bill billy will willy willie liam
zachary: zach zack zak
`;

/** Folded name -> the formal names it stands for (a formal name stands for itself). */
const groupsByName = new Map<string, string[]>();
for (const line of table.trim().split('\n')) {
  const [formal, variants = ''] = line.split(':') as [string, string?];
  for (const name of [formal, ...variants.trim().split(/\s+/)]) {
    const groups = groupsByName.get(name) ?? [];
    if (!groups.includes(formal)) groups.push(formal);
    groupsByName.set(name, groups);
  }
}

/**
 * The formal names a folded given name (lower case, no accents) belongs to; a name the table
 * does not know is its own group.
 */
export function givenNameGroups(folded: string): readonly string[] {
  return groupsByName.get(folded) ?? [folded];
}
