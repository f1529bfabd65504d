"""The words the demo catalogue is made of: places, people, and each genre's recipes.

Curated pt_BR vocabulary, kept apart from the drawing (:mod:`app.catalogue`).
Every list is a tuple in a fixed order: changing, adding or reordering a word
changes which title each demo id names (see ``app/catalogue.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.models import AgeRating

# ---------- vocabulary ----------


_IN = {"": "em", "o": "no", "a": "na", "os": "nos", "as": "nas"}
_OF = {"": "de", "o": "do", "a": "da", "os": "dos", "as": "das"}


@dataclass(frozen=True, slots=True)
class Place:
    """A Brazilian place and the article Portuguese puts before it ("no Recife")."""

    nome: str
    article: str = ""

    @property
    def em(self) -> str:
        """Where: "em Paraty", "no Recife", "na Bahia"."""
        return f"{_IN[self.article]} {self.nome}"

    @property
    def de(self) -> str:
        """Whose: "de Paraty", "do Sertão", "da Amazônia"."""
        return f"{_OF[self.article]} {self.nome}"


def _places(spec: str) -> tuple[Place, ...]:
    """Places from ``"Name/article; ..."`` (no article: no slash)."""
    places = []
    for item in spec.split(";"):
        name, _, article = item.strip().partition("/")
        places.append(Place(name, article))
    return tuple(places)


def _words(spec: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in spec.split(";") if item.strip())


PLACES = _places(
    "Paraty; Ouro Preto; Olinda; Salvador; Recife/o; Rio/o; São Paulo; Belém; Manaus;"
    " Porto Alegre; Florianópolis; Fortaleza; Natal; Tiradentes; Diamantina; Sertão/o;"
    " Pantanal/o; Cerrado/o; Amazônia/a; Bahia/a; Lapa/a; Copacabana; Pelourinho/o;"
    " Ilha Grande; Jericoacoara; Petrópolis; Campos do Jordão; Brasília; Cuiabá; São Luís;"
    " João Pessoa; Maceió; Vitória; Curitiba; Bonito; Ubatuba; Búzios; Morro/o; Litoral/o;"
    " Fronteira/a; Zona Norte/a; Centro/o; Subúrbio/o; Serra/a; Goiás; Santos; Pampa/o;"
    " Caatinga/a; Chapada/a; Baixada/a; Porto Seguro; Trancoso; Belo Horizonte; Juazeiro;"
    " Alcântara; Cabo Frio; Ilhéus; Vale/o"
)
PEOPLE = _words(
    "Helena; Joana; Lucas; Tomás; Beatriz; Rafael; Clara; Miguel; Isabela; Gabriel; Luísa;"
    " Pedro; Mariana; Bento; Alice; Davi; Cecília; Heitor; Valentina; Arthur; Laura; Benício;"
    " Júlia; Caetano; Marina; Joaquim; Rosa; Otávio; Lívia; Vicente; Antônia; Francisco;"
    " Aurora; Matheus; Sofia; Raimundo; Dona Lurdes; Seu Lourenço; Vó Cida; Tia Neném"
)
SURNAMES = _words(
    "Almeida; Ferraz; Bittencourt; Monteiro; Cavalcanti; Queiroz; Siqueira; Barreto;"
    " Vasconcelos; Teixeira; Prado; Lacerda; Moura; Falcão; Guimarães; Rezende; Andrade;"
    " Figueiredo; Sampaio; Matos; Albuquerque; Carvalhais; Brandão; Medeiros"
)
BIOMES = _places(
    "Amazônia/a; Pantanal/o; Cerrado/o; Caatinga/a; Mata Atlântica/a; Pampa/o;"
    " Lençóis Maranhenses/os; Fernando de Noronha; Chapada Diamantina/a; Serra do Mar/a;"
    " Rio São Francisco/o; Abrolhos; Bonito; Jalapão/o; Costa dos Corais/a; Serra da Canastra/a;"
    " Vale do Ribeira/o; Chapada dos Veadeiros/a; Delta do Parnaíba/o; Ilha do Bananal/a"
)

PROTAGONISTS = _words(
    "uma professora aposentada; um jovem pescador; uma médica recém-formada;"
    " um músico em decadência; uma advogada ambiciosa; um detetive cansado;"
    " uma adolescente curiosa; um viúvo solitário; uma chef de cozinha; um taxista falante;"
    " uma jornalista investigativa; um ex-jogador de futebol; uma cantora de bar;"
    " um policial novato; uma cientista teimosa; um garoto sonhador; uma avó determinada;"
    " um fotógrafo desempregado; uma herdeira rebelde; uma enfermeira do plantão noturno;"
    " um pai de primeira viagem; uma empresária falida; um professor de história;"
    " uma costureira de mão cheia; um motorista de aplicativo; uma bailarina aposentada"
)
CREATURES = _words(
    "um sapo falante; uma capivara curiosa; um boto travesso; uma arara-azul corajosa;"
    " um tatu medroso; uma formiga inventora; um mico-leão-dourado; uma tartaruga marinha;"
    " um curumim esperto; uma onça-pintada sonhadora"
)
DOC_CLOSINGS = _words(
    "Com imagens de arquivo e entrevistas exclusivas.; Uma produção brasileira premiada em"
    " festivais.; Com trilha sonora original.; Narração em português, com legendas"
    " disponíveis.; Filmado ao longo de três anos.; Com depoimentos de especialistas e"
    " moradores."
)


# ---------- genres ----------


@dataclass(frozen=True, slots=True)
class Recipe:
    """Titles ``form.format(head=h, tail=t)`` for each head ``h`` and tail ``t``.

    A tail is a :class:`Place` (``{tail.em}``, ``{tail.de}``, ``{tail.nome}``),
    which then sets the story, or a plain string.
    """

    form: str
    heads: tuple[str, ...]
    tails: tuple[Place | str, ...]

    def title(self, head: str, tail: Place | str) -> str:
        """The title made of ``head`` and ``tail``."""
        return self.form.format(head=head, tail=tail)


@dataclass(frozen=True, slots=True)
class Genre:
    """How to make a title of one genre of one ``tipo``.

    ``stories`` are the second half of a synopsis ("... volta para casa e ...");
    for documentaries they are whole sentences. ``minutes`` bounds a film's or
    an episode's length; ``ratings`` weighs the age ratings that fit.
    """

    name: str
    weight: int
    recipes: tuple[Recipe, ...]
    stories: tuple[str, ...]
    ratings: tuple[tuple[AgeRating, int], ...]
    minutes: tuple[int, int]
    companions: tuple[str, ...]
    protagonists: tuple[str, ...] = PROTAGONISTS


def _in(heads: str) -> Recipe:
    return Recipe("{head} {tail.em}", _words(heads), PLACES)


def _of(heads: str, places: tuple[Place, ...] = PLACES) -> Recipe:
    return Recipe("{head} {tail.de}", _words(heads), places)


def _named(heads: str, names: tuple[str, ...] = PEOPLE) -> Recipe:
    return Recipe("{head} {tail}", _words(heads), names)


def _subtitled(heads: Sequence[str], subtitles: str) -> Recipe:
    return Recipe("{head}: {tail}", tuple(heads), _words(subtitles))


FILM_GENRES = (
    Genre(
        "Drama",
        16,
        (
            _in(
                "O Último Verão; Um Inverno; A Despedida; Silêncio; Dias de Chuva; O Reencontro;"
                " Uma Tarde; Noites Brancas; Tempo de Espera; Domingo à Tarde; Um Ano Qualquer;"
                " A Última Primavera; Maré Baixa; Estação das Águas"
            ),
            _of(
                "A Casa Azul; Os Filhos; As Mulheres; O Farol; Memórias; A Herança; O Relojoeiro;"
                " A Professora; Os Esquecidos; O Pescador; A Costureira; Os Últimos Dias;"
                " As Janelas; O Sino"
            ),
            _named(
                "Cartas para; O Diário de; A Escolha de; O Silêncio de; A Volta de;"
                " Tudo Sobre; Os Anos de; O Segredo de"
            ),
        ),
        _words(
            "volta para casa depois de vinte anos e precisa encarar o que deixou para trás;"
            " descobre uma carta antiga que muda a história da família;"
            " cuida do pai doente enquanto tenta salvar o próprio casamento;"
            " aceita um emprego improvável e encontra um novo sentido para a vida;"
            " recebe uma herança inesperada que reabre feridas antigas;"
            " tenta reconstruir a vida depois de uma perda;"
            " reencontra um amigo de infância e revisita as escolhas que nunca fez"
        ),
        (("12", 30), ("14", 40), ("16", 25), ("18", 5)),
        (90, 160),
        ("Romance", "Suspense", "Comédia", "Policial"),
    ),
    Genre(
        "Comédia",
        15,
        (
            _in(
                "Confusão; Perdidos; Sogra à Vista; Dois Caipiras; Uma Família Quase Normal;"
                " Carnaval Fora de Hora; Feriado Prolongado; Tudo Errado; Encrenca;"
                " Um Natal Maluco; Lua de Mel com a Família; Uma Semana Sem Celular;"
                " Casamento às Avessas; Quem Pagou a Conta"
            ),
            _of(
                "O Rei; A Turma; Os Penetras; O Prefeito; A Rainha; O Mais Azarado; Os Caipiras;"
                " O Xerife; A Dona da Festa; O Gênio; Os Folgados; O Bom Vizinho"
            ),
            _named(
                "O Casamento de; As Férias de; A Mudança de; O Aniversário de; Tudo por;"
                " O Sogro de; Os Namorados de; A Grande Ideia de; O Plano Infalível de"
            ),
        ),
        _words(
            "se mete em uma confusão atrás da outra ao tentar organizar o casamento da irmã;"
            " finge ser outra pessoa para conseguir um emprego e perde o controle da mentira;"
            " herda uma pousada caindo aos pedaços e decide transformá-la no point do verão;"
            " precisa dividir o apartamento com o ex-sogro durante um feriado prolongado;"
            " ganha na loteria e descobre que perdeu o bilhete;"
            " aposta que consegue passar uma semana inteira sem celular"
        ),
        (("Livre", 20), ("10", 30), ("12", 35), ("14", 15)),
        (85, 120),
        ("Romance", "Aventura", "Drama"),
    ),
    Genre(
        "Romance",
        10,
        (
            _in(
                "Um Amor; Amor de Verão; Encontro Marcado; Primavera; Beijos Roubados;"
                " Coração Partido; Uma Noite; Tudo Começou; Dançando; Lua de Mel;"
                " Declaração; Amor à Primeira Vista"
            ),
            _of(
                "Sob o Céu; As Flores; Sob a Lua; O Pôr do Sol; As Estrelas; Os Amantes;"
                " A Noiva; O Poeta; As Cores; A Canção"
            ),
            _named(
                "Cartas de Amor para; Um Presente para; Esperando por; O Coração de;"
                " O Primeiro Amor de; Para Sempre"
            ),
        ),
        _words(
            "se apaixona justamente por quem jurou nunca mais ver;"
            " troca cartas com um desconhecido e marca um encontro que pode mudar tudo;"
            " reencontra o primeiro amor às vésperas do próprio casamento;"
            " aceita fingir um namoro e acaba sentindo mais do que devia;"
            " divide um verão inesquecível com alguém que está de partida"
        ),
        (("12", 40), ("14", 40), ("16", 20)),
        (90, 130),
        ("Drama", "Comédia"),
    ),
    Genre(
        "Ação",
        11,
        (
            _in(
                "Fuga; Alvo; Resgate; Emboscada; Cerco; Caçada; Perseguição; Confronto;"
                " Zona de Risco; Ataque; Contagem Regressiva; Sem Saída; Fogo Cruzado"
            ),
            _of(
                "O Guardião; Os Falcões; A Lei; O Justiceiro; Os Sobreviventes; O Dono;"
                " Os Caçadores; Os Lobos; O Atirador; A Tropa"
            ),
            _named("A Vingança de; O Resgate de; Operação; A Missão de; Caçada a"),
        ),
        _words(
            "tem 24 horas para resgatar a filha sequestrada;"
            " é a única pessoa capaz de impedir um atentado;"
            " enfrenta por conta própria uma quadrilha de garimpo ilegal;"
            " foge de antigos parceiros depois de um assalto que deu errado;"
            " lidera uma equipe de elite em uma missão sem volta"
        ),
        (("12", 20), ("14", 45), ("16", 35)),
        (95, 140),
        ("Aventura", "Policial", "Suspense"),
    ),
    Genre(
        "Suspense",
        10,
        (
            _in(
                "Desaparecidos; Ninguém Sai; Vozes; O Hóspede; Uma Noite Sem Fim; Pânico;"
                " Visita Inesperada; Sombras; O Estranho; A Testemunha; Portas Fechadas"
            ),
            _of(
                "O Mistério; A Mulher; Os Segredos; O Enigma; O Silêncio; As Sombras;"
                " O Desconhecido; A Ilha; O Quarto"
            ),
            _named("O Desaparecimento de; Quem Matou; A Outra Face de; A Mentira de; Procurando"),
        ),
        _words(
            "começa a receber mensagens de alguém que sabe demais;"
            " investiga o desaparecimento de uma vizinha e descobre que ninguém é quem parece;"
            " acorda sem memória em um quarto de hotel;"
            " percebe que alguém vigia cada passo seu desde que voltou à cidade;"
            " guarda um segredo que pode destruir uma família inteira"
        ),
        (("14", 40), ("16", 45), ("18", 15)),
        (90, 130),
        ("Policial", "Drama", "Terror"),
    ),
    Genre(
        "Terror",
        8,
        (
            _in(
                "Noite Sombria; Assombração; A Maldição; O Chamado; Gritos; Pesadelo;"
                " Algo Acordou; Sangue; Escuridão; O Ritual; Possessão; Lua de Sangue"
            ),
            _of(
                "A Lenda; Os Mortos; A Bruxa; O Fantasma; A Criatura; O Cemitério; As Almas;"
                " O Monstro; A Casa Maldita"
            ),
            _named("A Maldição de; O Espírito de; A Possessão de; O Exorcismo de; Os Demônios de"),
        ),
        _words(
            "se muda para uma casa antiga onde coisas estranhas acontecem à noite;"
            " desperta uma entidade ao ler um livro proibido;"
            " passa a ouvir vozes vindas do porão;"
            " enfrenta uma criatura saída das lendas locais;"
            " descobre que a cidade inteira esconde um pacto macabro"
        ),
        (("14", 15), ("16", 50), ("18", 35)),
        (80, 115),
        ("Suspense", "Fantasia"),
    ),
    Genre(
        "Policial",
        8,
        (
            _in(
                "Crime; Assalto; Corrupção; Flagrante; Tiros; Sequestro; Investigação;"
                " Justiça; Noite de Crime; Acerto de Contas; Queima de Arquivo"
            ),
            _of(
                "O Delegado; A Máfia; O Comando; Os Donos; O Último Tira; O Inspetor;"
                " Os Chefões; O Detetive; A Facção"
            ),
            _named("O Assassinato de; O Sequestro de; O Julgamento de; A Prisão de"),
        ),
        _words(
            "investiga uma série de crimes que ligam políticos e milicianos;"
            " se infiltra em uma facção para desmontar um esquema de tráfico;"
            " reabre um caso arquivado há quinze anos;"
            " persegue um assaltante de bancos que está sempre um passo à frente;"
            " precisa provar a própria inocência depois de uma operação desastrosa"
        ),
        (("14", 35), ("16", 50), ("18", 15)),
        (95, 140),
        ("Suspense", "Ação", "Drama"),
    ),
    Genre(
        "Aventura",
        7,
        (
            _in(
                "Expedição; Travessia; Naufrágio; Tesouro Escondido; Jornada; Sobrevivência;"
                " Trilha Perdida; Rumo ao Desconhecido; Correnteza"
            ),
            _of(
                "O Tesouro; Os Guardiões; O Mapa; A Caverna; Os Piratas; O Rio Secreto;"
                " A Montanha; Os Exploradores"
            ),
            _named("A Grande Aventura de; A Jornada de; As Viagens de; A Expedição de"),
        ),
        _words(
            "parte em busca de um tesouro perdido desde o tempo do Império;"
            " atravessa rios e matas para cumprir uma promessa;"
            " sobrevive a um naufrágio e precisa encontrar o caminho de volta;"
            " segue um mapa antigo encontrado no sótão da avó;"
            " embarca numa expedição que nenhum guia aceita conduzir"
        ),
        (("Livre", 20), ("10", 40), ("12", 40)),
        (90, 135),
        ("Ação", "Comédia", "Fantasia"),
    ),
    Genre(
        "Ficção científica",
        6,
        (
            _in(
                "Colônia; Apagão; Invasão; Contato; Horizonte; Estação Zero;"
                " Última Transmissão; Eclipse; Sinal; Queda Livre"
            ),
            _of(
                "Os Clones; A Máquina; O Experimento; Os Visitantes; O Portal; O Último Robô;"
                " A Cúpula; O Algoritmo"
            ),
            _named("O Clone de; A Memória de; O Código de; Os Sonhos de"),
        ),
        _words(
            "capta um sinal vindo do espaço que ninguém consegue decifrar;"
            " acorda em um futuro em que a água vale mais que ouro;"
            " descobre que as próprias lembranças foram implantadas;"
            " lidera os sobreviventes de um apagão que já dura meses;"
            " constrói uma máquina capaz de prever o dia seguinte"
        ),
        (("10", 20), ("12", 40), ("14", 40)),
        (95, 145),
        ("Ação", "Suspense", "Aventura"),
    ),
    Genre(
        "Animação",
        5,
        (
            _in(
                "Bichos; Uma Aventura; Festa Junina; Amigos; O Pequeno Herói; Bagunça;"
                " Sonhos; Pipas no Céu; Carnaval dos Bichos"
            ),
            _of("A Turminha; O Boto; A Onça; Os Sapos; O Saci; O Curupira; A Iara; Os Micos"),
            _named("A Grande Festa de; Os Amigos de; O Sonho de; As Aventuras de"),
        ),
        _words(
            "quer provar que até o menor dos bichos pode ser herói;"
            " se perde da família e faz amigos inesperados no caminho de volta;"
            " precisa salvar a floresta de um vilão ganancioso;"
            " sonha em voar e não desiste por nada"
        ),
        (("Livre", 70), ("10", 30)),
        (75, 105),
        ("Aventura", "Comédia", "Fantasia"),
        CREATURES,
    ),
    Genre(
        "Fantasia",
        4,
        (
            _in(
                "Encantados; Magia; O Feitiço; O Reino Encantado; Portais; Além do Espelho;"
                " Sortilégio; Noite de São João"
            ),
            _of("O Reino; A Feiticeira; O Encantado; Os Encantados; O Dragão; A Coroa; O Oráculo"),
            _named("O Feitiço de; O Reino de; A Profecia de; A Espada de"),
        ),
        _words(
            "descobre que pode conversar com os seres encantados da floresta;"
            " herda um amuleto que abre portas para outro mundo;"
            " precisa quebrar um feitiço antes da lua cheia;"
            " recebe de uma profecia uma missão que ninguém leva a sério"
        ),
        (("Livre", 20), ("10", 40), ("12", 40)),
        (95, 140),
        ("Aventura", "Animação", "Romance"),
    ),
)

SERIES_GENRES = (
    Genre(
        "Drama",
        17,
        (
            _of(
                "Crônicas; Herdeiros; Raízes; Histórias; Vidas; Os Anos; Memórias; Irmãos;"
                " Sob o Céu; Estações; Os Filhos; Marés; O Casarão; A Fazenda"
            ),
            _named("A Vida de; Os Filhos de; A Casa de; O Tempo de"),
            _named("Os", SURNAMES),
        ),
        _words(
            "segura as pontas da família depois que o patriarca desaparece;"
            " volta à cidade natal e reabre uma disputa de terras entre vizinhos;"
            " tenta manter aberta a escola do bairro contra tudo e contra todos;"
            " descobre, episódio a episódio, os segredos da geração anterior"
        ),
        (("12", 30), ("14", 45), ("16", 25)),
        (40, 60),
        ("Romance", "Suspense", "Policial"),
    ),
    Genre(
        "Comédia",
        15,
        (
            _of(
                "Os Vizinhos; A Turma; Confusões; Os Caras; Agência; Pensão; O Bar; A Firma;"
                " Plantão; Condomínio; A Lanchonete; A Padaria; O Salão; A Escolinha"
            ),
            _named("Tudo Sobre; O Mundo de; Só Pensa em"),
            _named("A Família; Os Irmãos; Casa", SURNAMES),
        ),
        _words(
            "administra uma pensão cheia de hóspedes excêntricos;"
            " tenta manter a paz num condomínio onde ninguém se entende;"
            " divide a rotina com colegas de trabalho impossíveis;"
            " cria os filhos com a ajuda nada útil dos parentes"
        ),
        (("Livre", 20), ("10", 30), ("12", 40), ("14", 10)),
        (22, 35),
        ("Romance", "Drama"),
    ),
    Genre(
        "Policial",
        14,
        (
            _of(
                "Delegacia; Distrito; Patrulha; Divisão; Crimes; Noites; Plantão Policial;"
                " Esquadrão; Perícia; Narcóticos"
            ),
            Recipe("{head}: {tail.nome}", _words("Homicídios; Força-Tarefa; Investigação"), PLACES),
            _named("O Caso; Arquivo", SURNAMES),
        ),
        _words(
            "resolve um crime por episódio enquanto persegue um assassino em série;"
            " comanda uma equipe de investigadores que não confia em ninguém;"
            " volta à ativa para caçar a quadrilha que matou seu parceiro;"
            " desvenda os crimes que a cidade prefere esquecer"
        ),
        (("14", 35), ("16", 50), ("18", 15)),
        (42, 60),
        ("Suspense", "Drama", "Ação"),
    ),
    Genre(
        "Suspense",
        10,
        (
            _of("Segredos; Mentiras; O Silêncio; Os Desaparecidos; A Ilha; Sombras; Ecos; Vultos"),
            _named("Quem É; O Passado de; Onde Está"),
        ),
        _words(
            "investiga uma morte que todos na cidade juram ter sido acidente;"
            " recebe de volta uma pessoa dada como morta há dez anos;"
            " descobre que a família vive de aparências e mentiras;"
            " segue pistas que levam sempre ao mesmo endereço"
        ),
        (("14", 40), ("16", 45), ("18", 15)),
        (40, 55),
        ("Policial", "Drama", "Fantasia"),
    ),
    Genre(
        "Novela",
        10,
        (
            _of("Amor; Paixão; Coração; Laços; Rainha; Flor; Destinos; Herança; Sol; Luar"),
            _named("O Destino de; O Amor de; A Força de; Os Caminhos de"),
        ),
        _words(
            "disputa o amor de um fazendeiro com a própria irmã;"
            " volta à cidade natal com uma fortuna e um plano de vingança;"
            " se envolve com o herdeiro da família rival;"
            " luta pela fazenda da família contra um grileiro poderoso;"
            " esconde um passado que ameaça um casamento de fachada"
        ),
        (("12", 50), ("14", 50)),
        (40, 55),
        ("Romance", "Drama", "Comédia"),
    ),
    Genre(
        "Romance",
        8,
        (
            _of("Encontros; Cartas; Casamentos; Verões; Amores; Paixões; Noites"),
            _named("Os Amores de; Esperando; Um Verão com"),
        ),
        _words(
            "divide um apartamento com a pessoa errada, que pode ser a certa;"
            " tenta esquecer um amor antigo em cada temporada;"
            " vive um romance de férias que não termina com as férias;"
            " escreve uma coluna de conselhos amorosos sem saber o que é amar"
        ),
        (("12", 45), ("14", 45), ("16", 10)),
        (30, 50),
        ("Comédia", "Drama"),
    ),
    Genre(
        "Ação",
        8,
        (
            Recipe(
                "{head} {tail.nome}",
                _words("Operação; Comando; Força Tarefa; Resgate; Missão; Patrulha"),
                PLACES,
            ),
            _of("Os Guardiões; A Tropa; Os Lobos; Fronteira"),
        ),
        _words(
            "lidera uma equipe de resgate nas missões mais arriscadas do país;"
            " combate o contrabando na fronteira sem confiar nos superiores;"
            " protege uma testemunha-chave de uma quadrilha internacional;"
            " treina novatos para a unidade de elite mais temida do Brasil"
        ),
        (("14", 45), ("16", 45), ("18", 10)),
        (42, 60),
        ("Policial", "Suspense", "Drama"),
    ),
    Genre(
        "Ficção científica",
        7,
        (
            Recipe(
                "{head} {tail.nome}",
                _words("Colônia; Projeto; Estação; Setor; Cidade; Zona"),
                PLACES,
            ),
            _of("Os Sobreviventes; O Fim; Os Últimos; Os Escolhidos; A Quarentena"),
        ),
        _words(
            "sobrevive em um Brasil dividido depois do colapso das redes;"
            " investiga sinais de um futuro que parece repetir o passado;"
            " descobre que a cidade é um experimento a céu aberto;"
            " comanda a primeira colônia humana fora da Terra"
        ),
        (("12", 40), ("14", 45), ("16", 15)),
        (40, 60),
        ("Suspense", "Ação", "Drama"),
    ),
    Genre(
        "Fantasia",
        6,
        (
            _of("Lendas; Encantados; Guardiões; Mistérios; Reinos; Contos; Feitiços"),
            _named("O Reino de; A Magia de"),
        ),
        _words(
            "descobre pertencer a uma linhagem de guardiões da floresta;"
            " enfrenta as criaturas do folclore que despertam com a lua cheia;"
            " atravessa um portal escondido atrás da cachoeira;"
            " protege um segredo que os encantados guardam há séculos"
        ),
        (("10", 40), ("12", 45), ("14", 15)),
        (40, 55),
        ("Animação", "Drama", "Romance"),
    ),
    Genre(
        "Animação",
        5,
        (
            _of("A Turma; Os Bichinhos; Aventuras; Os Pequenos; Tesouros; Cantigas"),
            _named("O Mundo de; A Turma de; As Histórias de"),
        ),
        _words(
            "vive uma aventura diferente a cada episódio com os amigos da floresta;"
            " aprende com os mais velhos as histórias da sua terra;"
            " resolve mistérios no quintal de casa;"
            " canta e dança para salvar a festa da vila"
        ),
        (("Livre", 80), ("10", 20)),
        (11, 24),
        ("Comédia", "Fantasia"),
        CREATURES,
    ),
)

DOC_GENRES = (
    Genre(
        "Natureza",
        22,
        (
            _subtitled(
                [b.nome for b in BIOMES],
                "O Ciclo das Águas; Vida Selvagem; A Estação da Seca; Os Últimos Refúgios;"
                " Gigantes Silenciosos; Noites Selvagens; Um Ano em Imagens; Predadores e Presas;"
                " A Grande Migração; Reino das Aves; Berçário da Vida; Paisagens em Risco;"
                " Depois do Fogo; Amanhecer Selvagem; Sobreviventes",
            ),
            _subtitled(
                _words("Amazônia; Mata Atlântica; Vale do Ribeira; Serra do Mar"),
                "Rios Voadores; O Pulso da Floresta; Sob a Copa das Árvores; Gigantes da Mata;"
                " A Floresta Que Respira; Vozes da Mata",
            ),
            _subtitled(
                _words(
                    "Abrolhos; Costa dos Corais; Fernando de Noronha; Delta do Parnaíba;"
                    " Lençóis Maranhenses"
                ),
                "Entre Marés; O Mar Por Dentro; Recifes em Perigo; A Rota das Tartarugas",
            ),
            _of(
                "Os Segredos; Vida Selvagem; Os Bichos; As Águas; Guardiões; Os Sons;"
                " As Estações; Os Caminhos; Os Rios; As Aves; Os Predadores; As Noites",
                BIOMES,
            ),
        ),
        _words(
            "Um ano de filmagens revela o dia a dia de espécies raras e ameaçadas.;"
            " Câmeras escondidas acompanham o ciclo das cheias e das secas.;"
            " Biólogos e moradores mostram como a paisagem muda a cada estação.;"
            " Imagens aéreas inéditas percorrem rios, matas e campos.;"
            " Um retrato da vida selvagem e dos desafios para preservá-la."
        ),
        (("Livre", 80), ("10", 20)),
        (45, 100),
        ("Ciência", "Sociedade"),
    ),
    Genre(
        "História",
        16,
        (
            _subtitled(
                _words(
                    "Canudos; Inconfidência; Palmares; Ciclo do Ouro; Era Vargas; Império;"
                    " Guerra do Paraguai; Revolta da Vacina; Cabanagem; Farroupilha;"
                    " Bandeirantes; Missões Jesuíticas; República Velha; Anos de Chumbo;"
                    " Diretas Já; Abolição; Independência; Balaiada; Revolta da Chibata"
                ),
                "A Outra Versão; Vozes Esquecidas; O Que Não Contaram; Memórias de Um País;"
                " Cartas e Documentos; Os Anos Decisivos; Herdeiros da História; Um Século Depois;"
                " Entre Heróis e Vilões; Mapas do Poder; O Fim de Uma Era; Testemunhas;"
                " Ruínas e Lembranças; A Origem",
            ),
            _of("Memórias; Ruínas; Os Fundadores; A História; Arquivos; Os Heróis", PLACES),
        ),
        _words(
            "Documentos inéditos e depoimentos de historiadores recontam um capítulo decisivo"
            " do Brasil.; Arquivos de época e reconstituições mostram quem fez e quem pagou"
            " por essa história.; Descendentes dos protagonistas revisitam os lugares onde"
            " tudo aconteceu.; Uma investigação sobre o que os livros escolares deixaram de fora."
        ),
        (("10", 30), ("12", 50), ("14", 20)),
        (50, 120),
        ("Sociedade", "Música"),
    ),
    Genre(
        "Sociedade",
        15,
        (
            _subtitled(
                _words(
                    "Periferia; Interior; Metrópole; Escola Pública; Juventude; Infância;"
                    " Migrantes; Povos Indígenas; Quilombolas; Mulheres do Campo; Terceira Idade;"
                    " Trabalhadores; Entregadores; Sertanejos; Ribeirinhos; Catadores"
                ),
                "Vidas em Movimento; Histórias Reais; O Direito de Sonhar; Sem Filtro; Retratos;"
                " A Luta Diária; Vozes; Outro Brasil; Quem Fica; Depois do Expediente; Caminhos;"
                " Por Trás dos Números; O Recomeço; Fronteiras Invisíveis",
            ),
            _of("Retratos; Vozes; Histórias; Gente; Os Trabalhadores; As Mães", PLACES),
        ),
        _words(
            "Um retrato íntimo de quem faz o país funcionar longe dos holofotes.;"
            " Câmera na mão, o filme acompanha famílias durante um ano inteiro.;"
            " Personagens reais contam, com as próprias palavras, como é recomeçar.;"
            " Números, mapas e histórias pessoais mostram um Brasil pouco visto."
        ),
        (("12", 40), ("14", 50), ("16", 10)),
        (50, 110),
        ("História", "Esporte", "Música"),
    ),
    Genre(
        "Música",
        14,
        (
            _subtitled(
                _words(
                    "Samba; Bossa Nova; Forró; Frevo; Choro; Tropicália; Baião; Funk Carioca;"
                    " Sertanejo; Maracatu; Axé; Rap Nacional; MPB; Carimbó; Manguebeat;"
                    " Pagode; Brega"
                ),
                "A Voz do Povo; Raízes e Rodas; Do Morro ao Mundo; Histórias de Quintal;"
                " Um Ritmo, Uma Nação; Os Mestres; Ao Vivo na Memória; Batuque e Resistência;"
                " A Trilha de Uma Geração; Vozes do Interior; Onde Tudo Começou; A Festa Continua;"
                " Cordas e Tambores; O Som das Ruas",
            ),
            _of("Os Ritmos; As Vozes; Os Bailes; As Rodas; Os Tambores; A Música", PLACES),
        ),
        _words(
            "Mestres e novos talentos contam como um ritmo atravessou gerações.;"
            " Gravações raras e shows históricos reconstroem a trajetória de um movimento.;"
            " Das rodas de bairro aos grandes palcos, a história de uma música que é do povo.;"
            " Um passeio pelas cidades que deram ritmo ao Brasil."
        ),
        (("Livre", 60), ("10", 30), ("12", 10)),
        (60, 110),
        ("História", "Sociedade"),
    ),
    Genre(
        "Esporte",
        13,
        (
            _subtitled(
                _words(
                    "Futebol de Várzea; Vôlei de Praia; Surfe; Skate; Capoeira; Maratona; Judô;"
                    " Futsal; Jiu-jítsu; Automobilismo; Basquete; Remo; Atletismo; Boxe;"
                    " Canoagem; Ginástica"
                ),
                "A Virada; Além da Vitória; Suor e Glória; O Caminho até o Pódio;"
                " Nascidos para Competir; A Última Temporada; Raízes; Da Periferia ao Mundo;"
                " Os Bastidores; Uma Geração de Ouro; Contra Todos; Corpo e Alma;"
                " O Preço da Glória; Recomeço; Sem Limites",
            ),
            _of("Os Campeões; A Torcida; O Time; Os Craques; A Várzea; As Meninas", PLACES),
        ),
        _words(
            "Atletas e treinadores revelam os bastidores de uma temporada decisiva.;"
            " Da quadra do bairro às competições internacionais, uma história de persistência.;"
            " Imagens de arquivo e entrevistas mostram como o esporte mudou vidas.;"
            " Uma equipe improvável desafia os favoritos e o próprio passado."
        ),
        (("Livre", 70), ("10", 30)),
        (50, 100),
        ("Sociedade", "História"),
    ),
    Genre(
        "Crime real",
        12,
        (
            _subtitled(
                [f"Caso {surname}" for surname in SURNAMES],
                "Anatomia de Um Crime; A Verdade Enterrada; Culpado ou Inocente;"
                " Sem Testemunhas; O Último Suspeito; Pistas Falsas; A Investigação; Confissões;"
                " Dez Anos Sem Respostas; O Julgamento; Mentiras em Família; Rastros;"
                " Sombras do Passado; Arquivo Aberto; A Noite do Crime",
            ),
            _of("O Crime; Os Desaparecidos; O Mistério; O Assassino; O Golpe; A Fuga", PLACES),
        ),
        _words(
            "Investigadores, jornalistas e familiares refazem passo a passo um crime que"
            " chocou o país.; Documentos do processo e depoimentos inéditos reabrem um caso"
            " nunca resolvido.; Um julgamento polêmico contado por quem esteve no tribunal.;"
            " Reconstituições e arquivos policiais mostram o que deu errado na investigação."
        ),
        (("14", 40), ("16", 45), ("18", 15)),
        (45, 100),
        ("Sociedade", "História"),
    ),
    Genre(
        "Ciência",
        8,
        (
            _subtitled(
                _words(
                    "Cérebro; Vacinas; Clima; Oceanos; Genética; Inteligência Artificial;"
                    " Energia Solar; Astronomia; Dinossauros do Brasil; Vulcões; Microbioma;"
                    " Mudanças Climáticas; Física Quântica; Sono; Biodiversidade"
                ),
                "O Próximo Passo; Além do Visível; Perguntas Sem Resposta; Laboratório Brasil;"
                " Os Pioneiros; A Corrida Contra o Tempo; Descobertas; O Futuro Agora;"
                " Pequenas Grandes Coisas; Mistérios Revelados; Como Funciona; A Fronteira Final;"
                " Dados e Dúvidas; Experimentos; Uma Nova Era",
            ),
            _of("Os Cientistas; O Laboratório; O Céu; As Descobertas", PLACES),
        ),
        _words(
            "Cientistas brasileiros explicam, sem complicar, o que se sabe e o que falta"
            " descobrir.; Experimentos filmados de perto mostram a ciência acontecendo.;"
            " Uma viagem por laboratórios, expedições e ideias que podem mudar o futuro.;"
            " Animações e entrevistas tornam simples o que parecia impossível."
        ),
        (("Livre", 60), ("10", 40)),
        (45, 95),
        ("Natureza", "Sociedade"),
    ),
)
